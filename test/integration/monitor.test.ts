import { afterEach, describe, expect, it } from 'vitest';
import { MONITOR_SQL, SqliteMonitor } from '@tasklock/core/sqlite';
import { closeQueues, finishOne as finish, openTempQueue, sqliteOf } from '../utils/lifecycle.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => {
  closeQueues();
  removeTempDirs();
});

// What every store's live view does is in test/conformance/monitor.test.ts; here, SQLite's own reads.
describe('SqliteMonitor (stats --watch)', () => {
  it('reads only the live set and new events each interval (EXPLAIN QUERY PLAN)', async () => {
    const queue = await openTempQueue();
    const plan = (sql: string, params: unknown) =>
      (sqliteOf(queue).connection.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(params as never) as { detail: string }[]).map((row) => row.detail);
    expect(plan(MONITOR_SQL.live, { now: 0 })).toEqual(['SCAN tasks USING INDEX tasks_claimable', 'USE TEMP B-TREE FOR GROUP BY']);
    expect(plan(MONITOR_SQL.running, {})).toEqual(['SCAN tasks USING INDEX tasks_running_by_lease', 'USE TEMP B-TREE FOR GROUP BY']);
    expect(plan(MONITOR_SQL.events, { after: 0, upto: 1 })).toEqual([
      'SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)',
      'SEARCH t USING INTEGER PRIMARY KEY (rowid=?)',
      'USE TEMP B-TREE FOR GROUP BY',
    ]);
    expect(plan(MONITOR_SQL.eventAt, [1])).toEqual(['SEARCH task_events USING INTEGER PRIMARY KEY (rowid>?)']);
    expect(plan(MONITOR_SQL.finishCounts, [0])).toEqual(['SEARCH finish_counts USING PRIMARY KEY (second>?)']);
  });

  it('a monitor started later finds the last minute of failures, and none older', async () => {
    const queue = await openTempQueue();
    await finish(queue, 'x', 'fail', { maxAttempts: 1 });
    // Its end, counted (schema 6: ends are counts, not events), moved two minutes back.
    sqliteOf(queue).connection.prepare('UPDATE finish_counts SET second = second - 120').run();
    await finish(queue, 'x', 'fail', { maxAttempts: 1 });
    await finish(queue, 'x', 'fail');
    await finish(queue, 'x', 'complete');
    const sample = await new SqliteMonitor(sqliteOf(queue)).sample();
    expect(sample.failuresLastMinute).toEqual({ attempts: 2, final: 1 });
    expect(sample.counts).toMatchObject({ failed: 2, succeeded: 1, scheduled: 1 });
  });

});
