import { LockTimeoutError } from '../../../errors.js';

/**
 * FIFO mutex for the connections of one process that share a lock backend: the cross-process
 * lock has one holder per process, and this decides which of the process's writers it is.
 * Waiters are served strictly in arrival order, so no queue of the process starves another.
 */
export class ProcessMutex {
  private held = false;
  private readonly waiters: Array<{ grant: () => void }> = [];

  async acquire(timeoutMs: number, what: string): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new LockTimeoutError(what, performance.now() - started));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.held = false;
  }
}
