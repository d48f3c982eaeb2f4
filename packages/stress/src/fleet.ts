import { execa, type ResultPromise } from 'execa';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SHELL_COMMAND, SHELL_QUEUE } from './shell-handler.js';

/** The real `tasklock` binary: the harness runs exactly what users run. */
export const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
export const HANDLER = fileURLToPath(new URL('./handler.js', import.meta.url));

export interface FleetConfig {
  db: string;
  lock: string;
  env: Record<string, string>;
  concurrency: number;
  leaseMs: number;
  graceMs: number;
  /** The --db a worker is given (default: `db`): a PostgreSQL run names each worker's connections after it and sets their statement_timeout. */
  workerDb?: (id: string) => string;
}

/** module: `--handler` in process, the default queue; shell: `--exec` commands, the shell queue. */
export type WorkerKind = 'module' | 'shell';

export interface WorkerProcess {
  id: string;
  kind: WorkerKind;
  pid: number;
  startedAt: number;
  killedAt: number | null;
  child: ResultPromise;
  stdout: string;
  stderr: string;
}

export interface UnexpectedExit {
  id: string;
  exitCode: number | undefined;
  signal: string | undefined;
  lastError: string;
}

/**
 * The worker processes of a run: started, SIGKILLed and replaced, stopped, sampled. A worker
 * that exits without the harness killing or stopping it is recorded and replaced, so the fleet
 * keeps its size (a shrinking fleet would starve the run and hide the chaos).
 */
export class Fleet {
  readonly all: WorkerProcess[] = [];
  readonly unexpectedExits: UnexpectedExit[] = [];
  private generation = 0;
  private stopping = false;
  peakRssBytes = 0;

  constructor(private readonly config: FleetConfig) {}

  get live(): WorkerProcess[] {
    return this.all.filter((w) => w.killedAt === null && w.child.exitCode === null);
  }

  start(kind: WorkerKind = 'module'): WorkerProcess {
    const { db, lock, env, concurrency, leaseMs, graceMs, workerDb } = this.config;
    this.generation += 1;
    const id = `stress-${this.generation}${kind === 'shell' ? '-sh' : ''}`;
    const handler = kind === 'shell' ? ['--exec', SHELL_COMMAND, '--queue', SHELL_QUEUE] : ['--handler', HANDLER];
    const child = execa(
      process.execPath,
      [CLI, 'worker', '--db', workerDb?.(id) ?? db, '--lock', lock, ...handler, '--concurrency', String(concurrency),
        '--lease', String(leaseMs), '--heartbeat', String(Math.floor(leaseMs / 4)), '--grace', String(graceMs),
        '--worker-id', id, '--json', '--wait-for-store'],
      // detached: each worker leads a process group of its own, which chaos may SIGKILL whole.
      // --wait-for-store: a replacement started while a fault holds the store away (a restart, a
      // cut connection) waits for it, as a supervisor's replacement should be told to.
      { env, reject: false, buffer: false, stdin: 'ignore', cleanup: true, detached: true },
    );
    const worker: WorkerProcess = { id, kind, pid: child.pid!, startedAt: Date.now(), killedAt: null, child, stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (worker.stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (worker.stderr = (worker.stderr + chunk).slice(-20_000)));
    this.all.push(worker);
    void child.then((result) => {
      if (worker.killedAt !== null || this.stopping) return;
      const lastError = worker.stderr.trim().split('\n').at(-1) ?? '';
      this.unexpectedExits.push({ id, exitCode: result.exitCode, signal: result.signal, lastError });
      this.start(kind);
    });
    return worker;
  }

  /**
   * Signals the worker's pid alone (as the OOM killer does), or with `group` its whole process
   * group (as a terminal's ^C or a container stop does): the worker and any handler process that
   * stayed in its group.
   */
  kill(worker: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL', group = false): void {
    worker.killedAt = Date.now();
    if (!group) {
      worker.child.kill(signal);
      return;
    }
    try {
      process.kill(-worker.pid, signal);
    } catch {
      // the group is gone already (the worker exited on its own a moment ago)
    }
  }

  /** SIGTERM for every live worker (graceful: finish or hand back), then wait for all. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const worker of this.live) worker.child.kill('SIGTERM');
    await Promise.all(this.all.map((w) => w.child));
  }

  /**
   * Outage lines in every worker's log so far (killed ones too, as far as their last 20 kB go):
   * how many outages began ("lost the store") and ended ("store reachable again"), and in how many workers.
   */
  outageLines(): { began: number; ended: number; workers: number } {
    let began = 0;
    let ended = 0;
    let workers = 0;
    for (const worker of this.all) {
      const lost = worker.stderr.match(/lost the store: /g)?.length ?? 0;
      began += lost;
      ended += worker.stderr.match(/store reachable again after /g)?.length ?? 0;
      if (lost > 0) workers += 1;
    }
    return { began, ended, workers };
  }

  sampleRss(): void {
    for (const worker of this.live) {
      try {
        const status = readFileSync(`/proc/${worker.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        this.peakRssBytes = Math.max(this.peakRssBytes, kb * 1024);
      } catch {
        // exited between the list and the read
      }
    }
  }

  /** Final `--json` summaries of the workers that stopped gracefully (one JSON document each). */
  summaries(): { worker: string; stats: Record<string, number>; writes?: WriteSummary }[] {
    const out = [];
    for (const worker of this.all) {
      if (worker.stdout.trim() === '') continue;
      try {
        out.push(JSON.parse(worker.stdout));
      } catch {
        // a killed worker may have printed nothing whole
      }
    }
    return out;
  }
}

export interface WriteSummary {
  transactions: number;
  busyRetries: number;
  lockTimeouts: number;
  failures: number;
  lockWaitMs: { p50: number; p99: number; max: number; count: number };
  lockHoldMs: { p50: number; p99: number; max: number; count: number };
}
