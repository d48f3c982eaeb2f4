import { execa } from 'execa';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, type Fleet } from './fleet.js';
import type { Random } from './random.js';

export const FAULTS = ['busy', 'full', 'sigstop', 'migrate'] as const;
export type Fault = (typeof FAULTS)[number];

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
}

export interface FaultRecord {
  fault: Fault;
  at: number;
  detail: string;
  skipped?: string;
}

const BUSY_HOLDER = fileURLToPath(new URL('./busy-holder.js', import.meta.url));

/** Injects one fault and returns once it has been lifted. */
export async function inject(fault: Fault, context: FaultContext): Promise<FaultRecord> {
  const at = Date.now();
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
    case 'migrate': {
      // A new process opening (and migrating) the database while writers run.
      const result = await execa(process.execPath, [CLI, 'init', '--db', context.db, '--lock', context.lock], { env: context.env, reject: false });
      if (result.exitCode !== 0) throw new Error(`migrate fault: tasklock init failed: ${result.stderr}`);
      return { fault, at, detail: 'tasklock init ran mid-run' };
    }
  }
}
