// Progress and counters in the CLI: `show` (a counters line), `list` (PROGRESS and COUNTERS
// columns, only when a task on the page has some), `stats` (sums per type), and their --json.
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '@tasklock/core';
import { cli, cliJson, enqueue, initDb } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => removeTempDirs());

/** A database with a finished 'chat' task and a running 'embed' one, each having reported (written by the library, then closed). */
async function reportedDb(): Promise<{ db: string; done: number; running: number }> {
  const { db } = await initDb();
  const done = await enqueue(db, 'chat', { n: 1 });
  const running = await enqueue(db, 'embed', { n: 2 });
  const queue = await Queue.open(db);
  try {
    const [chat] = await queue.claim({ workerId: 'w', types: ['chat'], leaseMs: 60_000 });
    await queue.heartbeat(chat!, { leaseMs: 60_000, progress: { step: 2 }, counts: { tokens: 812, calls: 1 } });
    await queue.complete(chat!, 'ok', 'w');
    const [embed] = await queue.claim({ workerId: 'w', types: ['embed'], leaseMs: 60_000 });
    await queue.heartbeat(embed!, { leaseMs: 60_000, progress: 0.5, counts: { tokens: 40 } });
  } finally {
    queue.close();
  }
  return { db, done, running };
}

describe('progress and counters in the CLI', () => {
  it('show: a counters line beside progress; --json has task.counters', async () => {
    const { db, done } = await reportedDb();
    const human = await cli(['--db', db, 'show', String(done)]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^progress\s+\{"step":2\}$/m);
    expect(human.stdout).toMatch(/^counters\s+calls=1 tokens=812$/m);
    const shown = await cliJson<{ task: { counters: unknown; progress: unknown } }>(db, ['show', String(done)]);
    expect(shown.task).toMatchObject({ progress: { step: 2 }, counters: { calls: 1, tokens: 812 } });
  });

  it('list: PROGRESS and COUNTERS columns when a task on the page has some, none otherwise; --json has both', async () => {
    const { db, done, running } = await reportedDb();
    const human = await cli(['--db', db, 'list']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+TYPE\s+QUEUE\s+PRI\s+ATTEMPTS\s+PROGRESS\s+COUNTERS\s+RUN AT/);
    expect(human.stdout).toMatch(new RegExp(`^${done}\\s+succeeded\\s+chat\\s+default\\s+0\\s+1/3\\s+\\{"step":2\\}\\s+calls=1 tokens=812\\s`, 'm'));
    expect(human.stdout).toMatch(new RegExp(`^${running}\\s+running\\s+embed\\s+default\\s+0\\s+1/3\\s+0\\.5\\s+tokens=40\\s`, 'm'));
    const { tasks } = await cliJson<{ tasks: { id: number; progress: unknown; counters: unknown }[] }>(db, ['list']);
    expect(tasks.map((t) => [t.id, t.progress, t.counters])).toEqual([
      [done, { step: 2 }, { calls: 1, tokens: 812 }],
      [running, 0.5, { tokens: 40 }],
    ]);
    const plain = await initDb();
    await enqueue(plain.db, 'mail');
    expect((await cli(['--db', plain.db, 'list'])).stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+TYPE\s+QUEUE\s+PRI\s+ATTEMPTS\s+RUN AT/);
  });

  it('stats: counters summed per type, as a table and as countersByType', async () => {
    const { db } = await reportedDb();
    const human = await cli(['--db', db, 'stats']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^TYPE\s+COUNTER\s+SUM$/m);
    expect(human.stdout).toMatch(/^chat\s+calls\s+1$/m);
    expect(human.stdout).toMatch(/^chat\s+tokens\s+812$/m);
    expect(human.stdout).toMatch(/^embed\s+tokens\s+40$/m);
    expect((await cliJson<{ countersByType: unknown }>(db, ['stats'])).countersByType).toEqual({ chat: { calls: 1, tokens: 812 }, embed: { tokens: 40 } });
    const plain = await initDb();
    expect((await cli(['--db', plain.db, 'stats'])).stdout).not.toMatch(/COUNTER/);
  });
});
