import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CLI_MAIN, cli, enqueue, initDb } from '../utils/cli.js';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { removeTempDirs } from '../utils/temp-dir.js';

afterAll(async () => {
  removeTempDirs();
  await dropPgDatabases();
});

/** A store the CLI has initialised, on each engine. */
const stores = [
  { name: 'sqlite', init: async () => (await initDb()).db },
  {
    name: 'postgres',
    async init() {
      const url = await makePgDatabase();
      const result = await cli(['--db', url, 'init']);
      if (result.code !== 0) throw new Error(`init failed: ${result.stderr}`);
      return url;
    },
  },
];

const watchers: ReturnType<typeof execa>[] = [];
afterEach(async () => {
  for (const child of watchers.splice(0)) {
    child.kill('SIGKILL');
    await child.catch(() => undefined);
  }
});

/** `tasklock stats --watch …` left running, its stdout a pipe; lines() is what it printed so far. */
function watch(db: string, args: readonly string[]) {
  const child = execa(process.execPath, [CLI_MAIN, '--db', db, ...args], { reject: false, stdin: 'ignore', env: { TASKLOCK_DB: undefined }, timeout: 60_000, killSignal: 'SIGKILL' });
  watchers.push(child);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer | string) => {
    out += String(chunk);
  });
  return { child, lines: () => out.split('\n').filter((line) => line.length > 0) };
}

describe('stats --watch', () => {
  it.each(stores)('piped ($name): one plain line per sample that sees an enqueue made between two; SIGINT exits 0', async (store) => {
    const db = await store.init();
    await enqueue(db, 'a');
    const watcher = watch(db, ['stats', '--watch', '--interval', '100ms']);
    await vi.waitFor(() => expect(watcher.lines().length).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 20 });
    expect(watcher.lines()[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z pending 1, scheduled 0, running 0, succeeded 0, failed 0, cancelled 0; -; oldest due [\d.]+m?s; failures last minute 0 \(0 final\); running by worker -$/);
    await enqueue(db, 'b');
    await enqueue(db, 'c', {}, ['--delay', '1h']);
    await vi.waitFor(() => expect(watcher.lines().at(-1)).toMatch(/ pending 2, scheduled 1, /), { timeout: 20_000, interval: 20 });
    expect(watcher.lines().length).toBeGreaterThanOrEqual(2);
    expect(watcher.lines().join('\n')).not.toMatch(/\x1b/);
    watcher.child.kill('SIGINT');
    const result = await watcher.child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('--json: one JSON object per line, with the live figures', async () => {
    const { db } = await initDb();
    const watcher = watch(db, ['--json', 'stats', '--watch', '--interval', '100ms']);
    await vi.waitFor(() => expect(watcher.lines().length).toBeGreaterThanOrEqual(1), { timeout: 20_000, interval: 20 });
    await enqueue(db, 'a');
    await vi.waitFor(() => expect(watcher.lines().length).toBeGreaterThanOrEqual(2), { timeout: 20_000, interval: 20 });
    await vi.waitFor(() => expect(JSON.parse(watcher.lines().at(-1)!).counts.pending).toBe(1), { timeout: 20_000, interval: 20 });
    const samples = watcher.lines().map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(samples[0]).toMatchObject({ finishedPerSecond: null, runningByWorker: {}, failuresLastMinute: { attempts: 0, final: 0 } });
    expect(samples.at(-1)).toMatchObject({ counts: { pending: 1 }, byType: { a: { pending: 1 } }, finishedPerSecond: 0 });
    watcher.child.kill('SIGTERM');
    expect((await watcher.child).exitCode).toBe(0);
  });

  it('refuses an interval without --watch, and one too short', async () => {
    const { db } = await initDb();
    expect((await cli(['--db', db, 'stats', '--interval', '1s'])).stderr).toBe('tasklock: --interval needs --watch\n');
    const short = await cli(['--db', db, 'stats', '--watch', '--interval', '1ms']);
    expect(short.code).toBe(2);
    expect(short.stderr).toBe('tasklock: --interval must be at least 50ms\n');
  });
});
