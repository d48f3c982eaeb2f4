/**
 * A worker's slots: how many more tasks it may take now. A slot is taken by a running handler or
 * held by a claim in flight (the claim loop's, or the finisher's finish + claim), so that two
 * claims in flight never fill the same free slot: a worker never runs more than `concurrency`
 * handlers, nor claims more than `maxTasks` tasks in all.
 */
export class ClaimSlots {
  private held = 0;

  constructor(
    private readonly limits: { concurrency: number; maxTasks: number },
    /** Handlers running and tasks claimed so far, as the worker counts them now. */
    private readonly usage: () => { running: number; claimed: number },
  ) {}

  /**
   * Holds up to `wanted` free slots for a claim and answers how many it holds. `freeing`: slots
   * that the outcomes committed in the same transaction as the claim will free.
   */
  reserve(wanted: number, freeing = 0): number {
    const { running, claimed } = this.usage();
    const free = Math.min(this.limits.concurrency - running + freeing, this.limits.maxTasks - claimed) - this.held;
    const slots = Math.max(0, Math.min(wanted, free));
    this.held += slots;
    return slots;
  }

  /** The claim answered (or failed): its slots are either running handlers now or free again. */
  release(slots: number): void {
    this.held -= slots;
  }
}
