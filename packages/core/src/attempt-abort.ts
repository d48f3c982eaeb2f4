/**
 * An attempt's abort: an AbortController made only when someone asks for its signal. Most
 * handlers never look at `ctx.signal`, and a controller with its signal per task was 3 % of a
 * busy worker's CPU (a profile of 1 worker draining noop tasks, batch 32). Aborting before anyone asked records the reason;
 * the signal, made later, is born aborted with it, so a handler cannot tell the difference.
 */
export class AttemptAbort {
  private controller: AbortController | null = null;
  private abortedWith: { reason: unknown } | null = null;

  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.abortedWith !== null) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortedWith !== null;
  }

  /** The first abort's reason (undefined while not aborted). */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** The first call wins, as AbortController's does. */
  abort(reason: unknown): void {
    if (this.abortedWith !== null) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}
