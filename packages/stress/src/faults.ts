import { execa } from 'execa';
import { appendFileSync, closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, type Fleet, type WorkerProcess } from './fleet.js';
import type { Queue } from '@tasklock/core';
import { injectPg, isPgFault, PG_FAULTS, type PgFaultContext } from './pg-faults.js';
import { liveGroupMembers } from './process-groups.js';
import type { Random } from './random.js';
import { SHELL_QUEUE } from './shell-handler.js';

export const FAULTS = ['busy', 'full', 'sigstop', 'migrate', 'orphans', ...PG_FAULTS] as const;
export type Fault = (typeof FAULTS)[number];

/**
 * The faults that stall every writer while they last (a held write lock or table, a full disk,
 * a server away): a dead worker's tasks cannot be reclaimed meanwhile, so the checker's reclaim
 * bound stretches by their length (and the outage backoff a worker may still sleep after them).
 */
export const STALLING_FAULTS: readonly Fault[] = ['busy', 'full', 'pg-timeout', 'pg-restart'];

/** The faults that need one engine: SQLite's write lock and file, or a PostgreSQL server. */
export const FAULT_ENGINE: Partial<Record<Fault, 'sqlite' | 'postgres'>> = {
  busy: 'sqlite',
  full: 'sqlite',
  'pg-kill': 'postgres',
  'pg-timeout': 'postgres',
  'pg-restart': 'postgres',
};

export interface FaultContext {
  db: string;
  dir: string;
  lock: string;
  env: Record<string, string>;
  fleet: Fleet;
  random: Random;
  leaseMs: number;
  /** Whether `dir` is a small tmpfs the `full` fault may fill. */
  smallFilesystem: boolean;
  /** The harness's own connection, for reads. */
  queue: Queue;
  /** worker id → when it was SIGKILLed (the checker's reclaim bound). */
  kills: Map<string, number>;
  /** Where a fault that enqueues tasks records their ids (read by the checker like an enqueuer's). */
  idsFile: string;
  /** A PostgreSQL run's server (null on SQLite). */
  pg: Omit<PgFaultContext, 'random'> | null;
}

export interface FaultRecord {
  fault: Fault;
  at: number;
  /** When it was lifted (set by the harness). */
  endedAt?: number;
  detail: string;
  skipped?: string;
  /** orphans: from the SIGKILL until no process of the killed worker's handler groups ran. */
  goneMs?: number;
}

const BUSY_HOLDER = fileURLToPath(new URL('./busy-holder.js', import.meta.url));

/** Injects one fault and returns once it has been lifted. */
export async function inject(fault: Fault, context: FaultContext): Promise<FaultRecord> {
  const at = Date.now();
  if (isPgFault(fault)) {
    if (context.pg === null) throw new Error(`${fault} is a PostgreSQL fault`);
    return { fault, at, ...(await injectPg(fault, { ...context.pg, random: context.random })) };
  }
  switch (fault) {
    case 'busy': {
      // An outside connection, not under tasklock's lock, holds the SQLite write lock.
      const holdMs = context.random.int(300, 1200);
      await execa(process.execPath, [BUSY_HOLDER, context.db, String(holdMs)], { env: context.env });
      return { fault, at, detail: `outside BEGIN IMMEDIATE held ${holdMs} ms` };
    }
    case 'full': {
      if (!context.smallFilesystem) return { fault, at, detail: '', skipped: 'needs a small tmpfs for the database (run as root so the harness can mount one)' };
      // Fill the filesystem: every writer meets a real ENOSPC (SQLITE_FULL), then space returns.
      const filler = join(context.dir, 'filler');
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(1 << 20);
      let written = 0;
      try {
        for (;;) written += writeSync(fd, chunk);
      } catch {
        // ENOSPC: the disk is full now
      } finally {
        closeSync(fd);
      }
      const holdMs = context.random.int(300, 1000);
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      rmSync(filler);
      return { fault, at, detail: `filesystem full (${(written / 1048576).toFixed(0)} MiB filler) for ${holdMs} ms` };
    }
    case 'sigstop': {
      // Freeze a worker past its lease (possibly while it holds the write lock), then thaw it:
      // its leases are reclaimed meanwhile and its late writes must be fenced off.
      const live = context.fleet.live;
      if (live.length === 0) return { fault, at, detail: '', skipped: 'no live worker' };
      const victim = context.random.pick(live);
      const frozenMs = context.leaseMs + context.random.int(200, 800);
      process.kill(victim.pid, 'SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, frozenMs));
      try {
        process.kill(victim.pid, 'SIGCONT');
      } catch {
        // killed by chaos meanwhile
      }
      return { fault, at, detail: `${victim.id} frozen ${frozenMs} ms (lease ${context.leaseMs} ms)` };
    }
    case 'orphans': {
      // SIGKILL a shell worker's pid alone while its --exec commands run, as the OOM killer
      // would: its handler groups must die with it, and no attempt may overlap the next.
      // Commands of its own, so that there is something to orphan however far the run has got.
      const extra = await context.queue.enqueueMany(Array.from({ length: 4 }, () => ({ type: 'shell', queue: SHELL_QUEUE, payload: { kind: 'shell' } })));
      appendFileSync(context.idsFile, extra.map((t) => `${t.id}\n`).join(''));
      const running = await shellWorkerWithHandlers(context);
      if (running === null) return { fault, at, detail: '', skipped: 'no shell worker was running a command within 5 s' };
      const { victim, pgids } = running;
      context.fleet.kill(victim);
      context.kills.set(victim.id, victim.killedAt!);
      const killedAt = performance.now();
      while (pgids.some((pgid) => liveGroupMembers(pgid).length > 0) && performance.now() - killedAt < 5000) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const goneMs = performance.now() - killedAt;
      const left = pgids.filter((pgid) => liveGroupMembers(pgid).length > 0);
      context.fleet.start('shell');
      if (left.length > 0) throw new Error(`orphans fault: handler groups ${left.join(', ')} of ${victim.id} still ran 5 s after its SIGKILL`);
      return { fault, at, detail: `${victim.id} SIGKILLed alone with ${pgids.length} command(s) running: their process groups gone after ${goneMs.toFixed(1)} ms`, goneMs };
    }
    case 'migrate': {
      // A new process opening (and migrating) the database while writers run.
      const result = await execa(process.execPath, [CLI, 'init', '--db', context.db, '--lock', context.lock], { env: context.env, reject: false });
      if (result.exitCode !== 0) throw new Error(`migrate fault: tasklock init failed: ${result.stderr}`);
      return { fault, at, detail: 'tasklock init ran mid-run' };
    }
  }
}

/** A live shell worker and the process groups of the commands it runs now (waits up to 5 s for one). */
async function shellWorkerWithHandlers(context: FaultContext): Promise<{ victim: WorkerProcess; pgids: number[] } | null> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const byWorker = new Map<string, number[]>();
    for (const task of await context.queue.list({ status: 'running', queue: SHELL_QUEUE, limit: 1000 })) {
      const pgid = (await context.queue.runs(task.id)).at(-1)?.handler_pgid;
      if (task.lockedBy !== null && pgid != null) byWorker.set(task.lockedBy, [...(byWorker.get(task.lockedBy) ?? []), pgid]);
    }
    const victim = context.fleet.live.find((w) => w.kind === 'shell' && byWorker.has(w.id));
    if (victim) return { victim, pgids: byWorker.get(victim.id)! };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}
