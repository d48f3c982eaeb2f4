import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, cliJson, enqueue, initDb } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterAll(() => removeTempDirs());

interface ListJson {
  tasks: { id: number; status: string; type: string }[];
  next: number | null;
}

describe.concurrent('scheduled apart from pending (CLI)', () => {
  it('worker --until-empty exits after the due task, reporting the one scheduled for 2030; stats and list show it', async () => {
    const { db } = await initDb();
    const later = await enqueue(db, 'later', {}, ['--run-at', '2030-01-01T00:00:00Z']);
    const due = await enqueue(db, 'now', {});
    const run = await cli(['--db', db, '--json', 'worker', '--exec', 'cat > /dev/null; echo 1', '--until-empty']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).stats).toMatchObject({ claimed: 1, succeeded: 1, scheduled: 1 });
    expect(run.stderr).toMatch(/queue empty: nothing due or running; 1 task\(s\) scheduled later are left \(next at 2030-01-01T00:00:00\.000Z\)/);
    const text = await cli(['--db', db, 'worker', '--exec', 'cat > /dev/null; echo 1', '--until-empty']);
    expect(text.stdout).toMatch(/: 0 claimed, .*, 1 scheduled\n$/);

    const stats = await cliJson<{ counts: Record<string, number> }>(db, ['stats']);
    expect(stats.counts).toMatchObject({ pending: 0, scheduled: 1, succeeded: 1 });
    expect((await cli(['--db', db, 'stats'])).stdout).toMatch(/^pending 0, scheduled 1, running 0, succeeded 1, failed 0, cancelled 0$/m);

    const listed = await cliJson<ListJson>(db, ['list', '--status', 'scheduled']);
    expect(listed.tasks.map((t) => t.id)).toEqual([later]);
    const human = await cli(['--db', db, 'list']);
    expect(human.stdout).toMatch(new RegExp(`^${later}\\s+scheduled\\s+later\\s`, 'm'));
    expect(human.stdout).toMatch(new RegExp(`^${due}\\s+succeeded\\s+now\\s`, 'm'));
    // Piped: no colour, no cutting.
    expect(human.stdout).not.toContain('\x1b');
  });

  it('--until-empty waits for a retry due within --until-empty-wait, not for one due later', async () => {
    const { db } = await initDb();
    // `exit 3` fails every attempt; the default backoff retries after 1 s.
    await enqueue(db, 'flaky', {}, ['--max-attempts', '2']);
    const waited = await cli(['--db', db, '--json', 'worker', '--exec', 'cat > /dev/null; exit 3', '--until-empty']);
    expect(waited.code, waited.stderr).toBe(0);
    expect(JSON.parse(waited.stdout).stats).toMatchObject({ claimed: 2, retried: 1, failed: 1, scheduled: 0 });

    await enqueue(db, 'flaky', {}, ['--max-attempts', '2']);
    const left = await cli(['--db', db, '--json', 'worker', '--exec', 'cat > /dev/null; exit 3', '--until-empty', '--until-empty-wait', '0']);
    expect(JSON.parse(left.stdout).stats).toMatchObject({ claimed: 1, retried: 1, scheduled: 1 });

    const alone = await cli(['--db', `${db}-not-there`, 'worker', '--exec', 'true', '--until-empty-wait', '1s']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toBe('tasklock: --until-empty-wait needs --until-empty\n');
    expect(existsSync(`${db}-not-there`)).toBe(false);
  });
});

describe.concurrent('list: status lists, order, cursor', () => {
  it('--status takes a comma list; --order desc is newest first', async () => {
    const { db } = await initDb();
    const ids = [await enqueue(db, 'a'), await enqueue(db, 'b'), await enqueue(db, 'c'), await enqueue(db, 'd')];
    await cliJson(db, ['cancel', String(ids[1])]);
    await cliJson(db, ['enqueue', 'late', '{}', '--delay', '1h']);
    const list = async (...args: string[]) => (await cliJson<ListJson>(db, ['list', ...args])).tasks.map((t) => t.id);
    expect(await list('--status', 'cancelled,scheduled')).toEqual([ids[1], 5]);
    expect(await list('--status', 'pending', '--order', 'desc')).toEqual([ids[3], ids[2], ids[0]]);
    expect(await list('--type', 'a,d')).toEqual([ids[0], ids[3]]);
    const bad = await cli(['--db', db, 'list', '--order', 'sideways']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are asc, desc/);
  });

  it('--json pages with a next cursor: every task once, in either order', async () => {
    const { db } = await initDb();
    await cliJson(db, ['enqueue', '--file', '-'], { input: Array.from({ length: 11 }, (_, i) => JSON.stringify({ type: 't', payload: i })).join('\n') });
    for (const order of ['asc', 'desc']) {
      const seen: number[] = [];
      let after: number | null = null;
      let pages = 0;
      do {
        const page: ListJson = await cliJson<ListJson>(db, ['list', '--limit', '4', '--order', order, ...(after === null ? [] : ['--after', String(after)])]);
        seen.push(...page.tasks.map((t) => t.id));
        after = page.next;
        pages += 1;
      } while (after !== null);
      expect(pages).toBe(3);
      const all = Array.from({ length: 11 }, (_, i) => i + 1);
      expect(seen).toEqual(order === 'asc' ? all : all.reverse());
    }
    const text = await cli(['--db', db, 'list', '--limit', '4', '--order', 'desc']);
    expect(text.stdout).toMatch(/^\(more: --after 8 --order desc\)$/m);
  });
});
