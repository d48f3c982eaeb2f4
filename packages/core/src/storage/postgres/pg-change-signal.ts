/**
 * The PostgreSQL store's change signal: LISTEN on one channel — CHANGE_CHANNEL, which every write
 * that may make a task due NOTIFYs, or END_CHANNEL, which every write that ends a run or a task
 * NOTIFYs (waitFor, the event stream); each at most once per transaction, delivered at its COMMIT. One connection of its own per signal, opened on the
 * first listen(); unlisten() sends UNLISTEN, so that a busy worker is not woken by every other
 * worker's commits (as on SQLite, where that cost half the throughput). A hint, never a promise:
 * a notification that arrives before LISTEN has taken effect is missed, and the waiter's own
 * timer looks again. A listening connection that is lost (the server restarted, or ended it)
 * wakes the waiter once — what was notified meanwhile is lost — and LISTEN is issued again on a
 * new connection, with capped backoff until the server answers, after which the waiter is woken
 * again to look once more.
 */
import pg from 'pg';
import { backoffMs, type BackoffPolicy } from '../../backoff.js';
import { ChangeLatch } from '../change-latch.js';
import type { ChangeSignal } from '../store.js';

export const CHANGE_CHANNEL = 'tasklock_changes';
export const END_CHANNEL = 'tasklock_ends';

/** Re-LISTEN after a lost connection: 50 ms, doubling, up to 2 s, jittered. */
const RELISTEN_BACKOFF: BackoffPolicy = { baseDelayMs: 50, maxDelayMs: 2000 };

export class PgChangeSignal implements ChangeSignal {
  private client: pg.Client | null = null;
  private readonly latch = new ChangeLatch();
  private listening = false;
  private closed = false;
  /** The LISTEN/UNLISTEN statements, in order, on the one connection. */
  private chain: Promise<unknown> = Promise.resolve();
  /** Failed LISTENs since the connection was lost (the backoff's attempt number). */
  private relistenFailures = 0;
  private relistenTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly connectionString: string,
    private readonly channels: readonly (typeof CHANGE_CHANNEL | typeof END_CHANNEL)[] = [CHANGE_CHANNEL],
  ) {}

  /** Resolves once LISTEN has run (or failed: the signal is then deaf, and the waiter's timer looks again). */
  listen(): Promise<void> {
    if (this.listening || this.closed) return this.chain.then(() => undefined);
    this.listening = true;
    this.enqueueListen();
    return this.chain.then(() => undefined);
  }

  unlisten(): void {
    this.latch.forgetHeard();
    if (!this.listening) return;
    this.listening = false;
    this.enqueue(async (client) => client.query(this.channels.map((channel) => `UNLISTEN ${channel}`).join('; ')));
  }

  notify(): void {
    this.latch.notify();
  }

  waitForChange(ms: number): Promise<boolean> {
    return this.latch.waitForChange(ms);
  }

  close(): void {
    this.closed = true;
    this.listening = false;
    if (this.relistenTimer !== null) clearTimeout(this.relistenTimer);
    const client = this.client;
    this.client = null;
    this.chain = this.chain.then(() => client?.end()).catch(() => undefined);
    this.notify();
  }

  /** Runs `step` on the signal's connection after the steps before it; a failure drops the connection (the timer still wakes). */
  private enqueue(step: (client: pg.Client) => Promise<unknown>, failed: () => void = () => undefined): void {
    this.chain = this.chain
      .then(async () => {
        if (this.closed) return;
        await step(await this.connection());
      })
      .catch(() => {
        this.client?.end().catch(() => undefined);
        this.client = null;
        failed();
      });
  }

  /** LISTEN; if the server does not answer, again later while still listening. */
  private enqueueListen(): void {
    this.enqueue(
      async (client) => {
        await client.query(this.channels.map((channel) => `LISTEN ${channel}`).join('; '));
        if (this.relistenFailures > 0) {
          // Listening again after a loss: whatever was notified meanwhile was missed.
          this.relistenFailures = 0;
          if (this.listening) this.latch.heard();
        }
      },
      () => {
        if (this.relistenFailures > 0) this.scheduleRelisten();
      },
    );
  }

  /** The connection went away while it listened: wake the waiter once, then listen again on a new one. */
  private lost(): void {
    if (!this.listening || this.closed) return;
    this.latch.heard();
    this.scheduleRelisten();
  }

  private scheduleRelisten(): void {
    if (this.relistenTimer !== null || !this.listening || this.closed) return;
    this.relistenFailures += 1;
    this.relistenTimer = setTimeout(() => {
      this.relistenTimer = null;
      if (this.listening && !this.closed) this.enqueueListen();
    }, backoffMs(RELISTEN_BACKOFF, this.relistenFailures));
    this.relistenTimer.unref();
  }

  private async connection(): Promise<pg.Client> {
    if (this.client !== null) return this.client;
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', () => {
      if (this.listening) this.latch.heard();
    });
    const gone = () => {
      if (this.client !== client) return;
      this.client = null;
      this.lost();
    };
    client.on('error', gone);
    client.on('end', gone);
    await client.connect();
    this.client = client;
    return client;
  }
}
