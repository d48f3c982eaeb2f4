// Progress and counters across processes, on each store: a worker process counts tokens while
// the CLI, in processes of its own, reads them (show, list, stats); a SIGKILLed worker keeps the
// counts its attempt had written and loses the deltas it had not (README: Progress and counters).
import { afterEach, describe, expect, it } from 'vitest';
import { cliJson, initDb } from '../utils/cli.js';
import { killAllFixtures, startFixture, type FixtureProcess } from '../utils/fixture-process.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterEach(async () => {
  await killAllFixtures();
  removeTempDirs();
  await dropPgDatabases();
});

interface Shown {
  task: { status: string; progress: unknown; counters: Record<string, number> };
}

const STORES: Record<string, () => Promise<string>> = {
  sqlite: async () => (await initDb()).db,
  postgres: async () => {
    const url = await makePgDatabase();
    await cliJson(url, ['init']);
    return url;
  },
};

async function enqueue(db: string, payload: unknown, extra: string[] = []): Promise<number> {
  return (await cliJson<{ ids: number[] }>(db, ['enqueue', 'chat', JSON.stringify(payload), ...extra])).ids[0]!;
}

function startCounting(db: string): FixtureProcess {
  return startFixture('counting-worker.mjs', [JSON.stringify({ db })]);
}

for (const [name, makeDb] of Object.entries(STORES)) {
  describe(`${name} store: counters across processes`, () => {
    it('another process sees each step\'s progress and counts in show, list and stats while the worker runs', async () => {
      const db = await makeDb();
      const id = await enqueue(db, { steps: 3, tokens: 10 });
      const worker = startCounting(db);
      for (let step = 1; step <= 3; step += 1) {
        await worker.waitForLine(`step ${id} 1 ${step}`);
        const shown = await cliJson<Shown>(db, ['show', String(id)]);
        expect(shown.task).toMatchObject({ status: 'running', progress: { step }, counters: { tokens: 10 * step, calls: step } });
        const stats = await cliJson<{ countersByType: unknown }>(db, ['stats']);
        expect(stats.countersByType).toEqual({ chat: { tokens: 10 * step, calls: step } });
        worker.send('next');
      }
      await worker.succeeded();
      const listed = await cliJson<{ tasks: Shown['task'][] }>(db, ['list']);
      expect(listed.tasks).toEqual([expect.objectContaining({ status: 'succeeded', progress: { step: 3 }, counters: { tokens: 30, calls: 3 } })]);
    });

    it('a SIGKILLed worker: the counts its attempt wrote stay, its unwritten deltas are lost, the rerun adds its own', async () => {
      const db = await makeDb();
      const id = await enqueue(db, { steps: 2, tokens: 10, unflushed: 1000 }, ['--max-attempts', '3']);
      const first = startCounting(db);
      for (let step = 1; step <= 2; step += 1) {
        await first.waitForLine(`step ${id} 1 ${step}`);
        first.send('next');
      }
      await first.waitForLine(`unflushed ${id}`);
      first.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      expect((await cliJson<Shown>(db, ['show', String(id)])).task).toMatchObject({ status: 'running', counters: { tokens: 20, calls: 2 } });

      // The next worker's sweep takes the task back from the dead worker (same host: its pid is gone) and runs attempt 2.
      const second = startCounting(db);
      for (let step = 1; step <= 2; step += 1) {
        await second.waitForLine(`step ${id} 2 ${step}`);
        second.send('next');
      }
      await second.succeeded();
      const shown = await cliJson<Shown>(db, ['show', String(id)]);
      expect(shown.task).toMatchObject({ status: 'succeeded', progress: { step: 2 }, counters: { tokens: 40, calls: 4 } });
      expect((await cliJson<{ countersByType: unknown }>(db, ['stats'])).countersByType).toEqual({ chat: { tokens: 40, calls: 4 } });
    });
  });
}
