import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, enqueue, initDb } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterAll(() => removeTempDirs());

interface BulkJson {
  dryRun: boolean;
  changed: number;
  ids: number[];
  skipped: { id: number; reason: string; status: string | null }[];
  transactions: number;
}

async function statuses(db: string): Promise<Record<number, string>> {
  const { tasks } = await cliJson<{ tasks: { id: number; status: string }[] }>(db, ['list', '--limit', '1000']);
  return Object.fromEntries(tasks.map((t) => [t.id, t.status]));
}

describe.concurrent('cancel and retry: several ids or a filter', () => {
  it('cancel 1 2 3: moves every id it can, reports the others, exit 2 when one could not move', async () => {
    const { db } = await initDb();
    const ids = [await enqueue(db, 'a'), await enqueue(db, 'a'), await enqueue(db, 'a')];
    const all = await cli(['--db', db, 'cancel', ...ids.map(String)]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe('cancelled 3 task(s) in 1 transaction(s)\n');

    const fresh = await enqueue(db, 'b');
    const some = await cli(['--db', db, 'cancel', String(fresh), String(ids[0]), '99']);
    expect(some.code).toBe(2);
    expect(some.stdout).toBe(`cancelled 1 task(s) in 1 transaction(s)\nskipped 1 (cancelled): ${ids[0]}\nskipped 1 (not found): 99\n`);
    expect(some.stderr).toBe(`tasklock: 2 of 3 task(s) cannot be cancelled: ${ids[0]} (cancelled), 99 (not found)\n`);
    expect((await statuses(db))[fresh]).toBe('cancelled');

    const json = await cli(['--db', db, '--json', 'retry', String(fresh), '99']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout) as BulkJson).toEqual({
      dryRun: false,
      changed: 1,
      ids: [fresh],
      skipped: [{ id: 99, reason: 'not-found', status: null }],
      transactions: 1,
    });
  });

  it('a filter with --dry-run changes nothing; without it, the same tasks move', async () => {
    const { db } = await initDb();
    const a = [await enqueue(db, 'a'), await enqueue(db, 'a', {}, ['--queue', 'other'])];
    const b = await enqueue(db, 'b');
    const later = await enqueue(db, 'a', {}, ['--delay', '1h']);
    const before = await statuses(db);
    const dry = await cli(['--db', db, 'cancel', '--type', 'a', '--status', 'pending', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(`would cancel 2 task(s): ${a.join(', ')} (dry run: nothing changed)\n`);
    expect(await statuses(db)).toEqual(before);
    const done = await cliJson<BulkJson>(db, ['cancel', '--type', 'a', '--status', 'pending', '--reason', 'cleanup']);
    expect(done).toMatchObject({ dryRun: false, changed: 2, ids: a, skipped: [] });
    expect(await statuses(db)).toEqual({ ...before, [a[0]!]: 'cancelled', [a[1]!]: 'cancelled' });
    expect((await statuses(db))[b]).toBe('pending');
    expect((await statuses(db))[later]).toBe('pending');
    expect((await cliJson<BulkJson>(db, ['cancel', '--status', 'scheduled'])).ids).toEqual([later]);
  });

  it('retry every failed task of a type, --queue and --older-than narrowing it', async () => {
    const { db } = await initDb();
    for (const type of ['mail', 'mail', 'sms']) await enqueue(db, type, {}, ['--max-attempts', '1']);
    const run = await cli(['--db', db, 'worker', '--exec', 'cat > /dev/null; exit 3', '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    expect(await cliJson<BulkJson>(db, ['retry', '--type', 'mail', '--older-than', '1h'])).toMatchObject({ changed: 0 });
    expect(await cliJson<BulkJson>(db, ['retry', '--type', 'mail', '--queue', 'nope'])).toMatchObject({ changed: 0 });
    const retried = await cli(['--db', db, 'retry', '--status', 'failed', '--type', 'mail']);
    expect(retried.stdout).toBe('retried 2 task(s) in 1 transaction(s)\n');
    expect(Object.values(await statuses(db)).sort()).toEqual(['failed', 'pending', 'pending']);
  });

  it('usage errors: neither ids nor a filter, both, a status the move cannot start from', async () => {
    const { db } = await initDb();
    const id = await enqueue(db, 'a');
    const cases: [string[], RegExp][] = [
      [['cancel'], /give task ids, or a filter: --status, --type, --queue, --older-than/],
      [['cancel', String(id), '--type', 'a'], /give task ids or a filter .*not both/],
      [['retry', '--status', 'pending'], /retry: cannot retry pending tasks \(only failed, cancelled\)/],
      [['cancel', '--status', 'done'], /must be one of pending, scheduled, running/],
      [['cancel', '1', 'x'], /must be an integer/],
      [['cancel', '--older-than', 'soon'], /--older-than/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(['--db', db, ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    expect((await statuses(db))[id]).toBe('pending');
  });
});
