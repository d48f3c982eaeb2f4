import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cliJson, enqueue, initDb, killAllWorkers, show, startWorker } from '../utils/cli.js';
import { killGroups, liveMembers, waitUntilGroupsGone } from '../utils/process-groups.js';
import { removeTempDirs } from '../utils/temp-dir.js';
import { Queue } from '@tasklock/core';
import { sqliteOf } from '../utils/lifecycle.js';

// A worker killed alone (kill -9 of its pid, as the OOM killer or a container runtime does,
// not of its process group) must take every process its attempts started with it, and no
// task may start again while a previous attempt's processes still run.

const groups: number[] = [];
afterEach(async () => {
  await killAllWorkers();
  killGroups(groups.splice(0));
  removeTempDirs();
});

/** "<task> <attempt> <what> <epoch ms>" lines; attempt 1 ticks until killed, later attempts end at once. */
const TICKING = `log() { echo "$TASKLOCK_TASK_ID $TASKLOCK_ATTEMPT $1 $(date +%s%3N)" >> "$EFFECTS"; }
trap '' TERM
log start
if [ "$TASKLOCK_ATTEMPT" = 1 ]; then
  (trap '' TERM; exec sleep 600) &
  while :; do log tick; sleep 0.01; done
fi
log end`;

interface Line {
  task: number;
  attempt: number;
  what: string;
  at: number;
}

/**
 * SIGSTOPs `pid` at a moment it holds no write lock: frozen inside a transaction it would keep
 * the database's lock (the kernel frees it only when the process dies), and every other writer
 * would wait for ever — a frozen lock holder is another test. An empty write with a short lock
 * wait tells; if it times out, the worker runs on a moment and is frozen again.
 */
async function freezeOutsideTheLock(db: string, pid: number): Promise<void> {
  const probe = await Queue.open(db, { sqlite: { lockTimeoutMs: 300 } });
  try {
    for (let tries = 1; ; tries += 1) {
      process.kill(pid, 'SIGSTOP');
      try {
        await sqliteOf(probe).write(() => undefined, { label: 'probe' });
        return;
      } catch (error) {
        if (tries >= 20) throw error;
        process.kill(pid, 'SIGCONT');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  } finally {
    probe.close();
  }
}

function effects(file: string): Line[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [task, attempt, what, at] = line.split(' ');
      return { task: Number(task), attempt: Number(attempt), what: what!, at: Number(at) };
    });
}

async function handlerGroups(db: string, ids: number[]): Promise<number[]> {
  const pgids: number[] = [];
  await vi.waitFor(
    async () => {
      pgids.length = 0;
      for (const id of ids) {
        const run = (await cliJson<{ runs: { handler: { pgid: number; host: string } | null }[] }>(db, ['show', String(id)])).runs.at(-1);
        expect(run?.handler).not.toBeNull();
        pgids.push(run!.handler!.pgid);
      }
    },
    { timeout: 15_000, interval: 50 },
  );
  groups.push(...pgids);
  return pgids;
}

/** Every line attempt `earlier` wrote came before attempt `later` started. */
function expectNoOverlap(lines: Line[], task: number): void {
  const later = lines.find((l) => l.task === task && l.attempt === 2 && l.what === 'start');
  expect(later, 'attempt 2 started').toBeDefined();
  const earlier = lines.filter((l) => l.task === task && l.attempt === 1);
  expect(earlier.length).toBeGreaterThan(0);
  expect(Math.max(...earlier.map((l) => l.at))).toBeLessThan(later!.at);
}

describe('--exec handlers die with their worker', () => {
  it('SIGKILL of the worker pid alone: every handler process (grandchildren, SIGTERM-ignoring ones) is gone, with no other worker to sweep', async () => {
    const { dir, db } = await initDb();
    const log = join(dir, 'effects.log');
    const ids = [await enqueue(db, 'long'), await enqueue(db, 'long'), await enqueue(db, 'long')];
    const worker = startWorker(db, ['--exec', TICKING, '--concurrency', '3'], { env: { EFFECTS: log } });
    const pgids = await handlerGroups(db, ids);
    // Each group: the supervisor, its watcher, the command's shell, its sleep and its grandchild.
    await vi.waitFor(() => expect(pgids.every((g) => liveMembers(g).length >= 3)).toBe(true), { timeout: 10_000, interval: 20 });
    process.kill(worker.pid, 'SIGKILL');
    const goneMs = await waitUntilGroupsGone(pgids, 5000);
    console.log(`pid-only SIGKILL of a worker: its ${pgids.length} handler process groups gone after ${goneMs.toFixed(1)} ms`);
    // Nothing swept (no other worker ran): the tasks are still running in the database.
    for (const id of ids) expect((await show(db, id)).task.status).toBe('running');
  });

  it('the next attempt starts only after the previous attempt\'s processes are gone', async () => {
    const { dir, db } = await initDb();
    const log = join(dir, 'effects.log');
    const id = await enqueue(db, 'long');
    const victim = startWorker(db, ['--exec', TICKING, '--worker-id', 'victim', '--lease', '60s'], { env: { EFFECTS: log } });
    await handlerGroups(db, [id]);
    await vi.waitFor(() => expect(effects(log).some((l) => l.what === 'tick')).toBe(true), { timeout: 10_000, interval: 20 });
    startWorker(db, ['--exec', TICKING, '--worker-id', 'rescuer'], { env: { EFFECTS: log } });
    process.kill(victim.pid, 'SIGKILL');
    await vi.waitFor(async () => expect((await show(db, id)).task.status).toBe('succeeded'), { timeout: 15_000, interval: 50 });
    expectNoOverlap(effects(log), id);
    const shown = await show(db, id);
    expect(shown.runs.map((r) => [r.workerId, r.outcome])).toEqual([['victim', 'reclaimed'], ['rescuer', 'succeeded']]);
  });

  it('a frozen worker (SIGSTOP past its lease): the sweep kills its handler group before the task runs again', async () => {
    const { dir, db } = await initDb();
    const log = join(dir, 'effects.log');
    const id = await enqueue(db, 'long');
    const frozen = startWorker(db, ['--exec', TICKING, '--worker-id', 'frozen', '--lease', '400', '--heartbeat', '100'], { env: { EFFECTS: log } });
    const [pgid] = await handlerGroups(db, [id]);
    await vi.waitFor(() => expect(effects(log).some((l) => l.what === 'tick')).toBe(true), { timeout: 10_000, interval: 20 });
    await freezeOutsideTheLock(db, frozen.pid);
    try {
      startWorker(db, ['--exec', TICKING, '--worker-id', 'rescuer'], { env: { EFFECTS: log } });
      await vi.waitFor(async () => expect((await show(db, id)).task.status).toBe('succeeded'), { timeout: 15_000, interval: 50 });
      expect(liveMembers(pgid!)).toEqual([]);
    } finally {
      process.kill(frozen.pid, 'SIGCONT');
    }
    expectNoOverlap(effects(log), id);
    const expire = (await show(db, id)).events.find((e) => e.transition === 'reclaim');
    expect(expire?.detail).toContain('lease expired');
    expect(expire?.detail).toContain(`process group ${pgid} still ran`);
  });
});

describe('the reclaim sweep and a recorded handler group', () => {
  const ORPHANING_WORKER = fileURLToPath(new URL('../fixtures/orphaning-worker.mjs', import.meta.url));

  it.each([
    ['', '60000'],
    [' (its lease expired too: one candidate, reclaimed as the dead owner\'s)', '200'],
  ])('a dead owner\'s task is handed on only after its handler group is killed and gone; the event says so%s', async (_title, leaseMs) => {
    const { db } = await initDb();
    const id = await enqueue(db, 'spawns');
    const owner = execa(process.execPath, [ORPHANING_WORKER, db, 'owner', leaseMs], { reject: false, buffer: false });
    const ready = await new Promise<{ taskId: number; pgid: number }>((resolve, reject) => {
      owner.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(String(chunk)) as { taskId: number; pgid: number }));
      void owner.then((r) => reject(new Error(`fixture exited: ${String(r.stderr)}`)));
    });
    groups.push(ready.pgid);
    expect(ready.taskId).toBe(id);
    owner.kill('SIGKILL');
    await owner;
    // No lifeline here: the group outlives its worker (the shell, its sleep, the subshell and its sleep).
    await vi.waitFor(() => expect(liveMembers(ready.pgid).length).toBeGreaterThanOrEqual(3), { timeout: 5000, interval: 20 });
    const members = liveMembers(ready.pgid).length;
    if (leaseMs === '200') await vi.waitFor(async () => expect((await cliJson<{ overdueLeases: number }>(db, ['stats'])).overdueLeases).toBe(1), { timeout: 5000, interval: 50 });
    const swept = await cliJson<{ deadOwner: number; killedGroups: { taskId: number; pgid: number; members: number }[] }>(db, ['reclaim']);
    expect(swept.deadOwner).toBe(1);
    expect(swept.killedGroups).toMatchObject([{ taskId: id, pgid: ready.pgid, members }]);
    expect(liveMembers(ready.pgid)).toEqual([]);
    const shown = await show(db, id);
    expect(shown.task.status).toBe('pending');
    const expire = shown.events.find((e) => e.transition === 'reclaim');
    expect(expire?.detail).toMatch(new RegExp(`worker process is gone; its handler's process group ${ready.pgid} still ran \\(${members} process\\(es\\)\\): killed, gone after \\d+ ms`));
    const { workers } = await cliJson<{ workers: { id: string; state: string; crashedBy: string | null }[] }>(db, ['workers', '--all']);
    expect(workers.find((w) => w.id === 'owner')).toMatchObject({ state: 'crashed', crashedBy: expect.stringMatching(/:\d+$/) });
  });
});
