import type { Worker, WorkerLog, WorkerStats } from '@tasklock/core';
import { killAllCommands } from './exec-handler.js';

const EXIT_ON_SECOND_SIGNAL: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * SIGTERM/SIGINT for `tasklock worker`: the first stops the worker gracefully (stop claiming,
 * finish or hand back running tasks), a second exits at once. Installed before the queue is
 * opened, so a signal that arrives while the worker is still starting stops it as soon as it
 * runs instead of killing the process with its default action.
 */
export class ShutdownSignals {
  private worker: Worker | null = null;
  private received = 0;
  private readonly onSignal = (signal: NodeJS.Signals): void => this.handle(signal);

  /** `log`: the worker's logger, so these lines are in its format (text or json). */
  constructor(
    private readonly graceMs: number,
    private readonly log: WorkerLog,
  ) {
    process.on('SIGTERM', this.onSignal);
    process.on('SIGINT', this.onSignal);
  }

  /** A signal came: whatever the worker still waits for at start, it should give up. */
  get stopping(): boolean {
    return this.received > 0;
  }

  async run(worker: Worker): Promise<WorkerStats> {
    this.worker = worker;
    const done = worker.start();
    if (this.received > 0) void worker.stop();
    return done;
  }

  dispose(): void {
    process.off('SIGTERM', this.onSignal);
    process.off('SIGINT', this.onSignal);
  }

  private handle(signal: NodeJS.Signals): void {
    this.received += 1;
    if (this.received > 1) {
      this.log('warn', `${signal} again: exiting now (leases of running tasks are reclaimed by other workers)`, { signal });
      killAllCommands();
      process.exit(EXIT_ON_SECOND_SIGNAL[signal] ?? 1);
    }
    this.log('info', `${signal}: stopping (running tasks get ${this.graceMs} ms); send it again to exit at once`, { signal });
    void this.worker?.stop();
  }
}
