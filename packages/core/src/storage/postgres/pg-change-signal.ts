/**
 * The PostgreSQL store's change signal: LISTEN on one channel, which every write that may make a
 * task due NOTIFYs (delivered at its COMMIT). One connection of its own per signal, opened on the
 * first listen(); unlisten() sends UNLISTEN, so that a busy worker is not woken by every other
 * worker's commits (as on SQLite, where that cost half the throughput). A hint, never a promise:
 * a notification that arrives before LISTEN has taken effect is missed, and the waiter's own
 * timer looks again.
 */
import pg from 'pg';
import { ChangeLatch } from '../change-latch.js';
import type { ChangeSignal } from '../store.js';

export const CHANGE_CHANNEL = 'tasklock_changes';

export class PgChangeSignal implements ChangeSignal {
  private client: pg.Client | null = null;
  private readonly latch = new ChangeLatch();
  private listening = false;
  private closed = false;
  /** The LISTEN/UNLISTEN statements, in order, on the one connection. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly connectionString: string) {}

  /** Resolves once LISTEN has run (or failed: the signal is then deaf, and the waiter's timer looks again). */
  listen(): Promise<void> {
    if (this.listening || this.closed) return this.chain.then(() => undefined);
    this.listening = true;
    this.enqueue(async (client) => client.query(`LISTEN ${CHANGE_CHANNEL}`));
    return this.chain.then(() => undefined);
  }

  unlisten(): void {
    this.latch.forgetHeard();
    if (!this.listening) return;
    this.listening = false;
    this.enqueue(async (client) => client.query(`UNLISTEN ${CHANGE_CHANNEL}`));
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
    const client = this.client;
    this.client = null;
    this.chain = this.chain.then(() => client?.end()).catch(() => undefined);
    this.notify();
  }

  /** Runs `step` on the signal's connection after the steps before it; a failure leaves the signal deaf (the timer still wakes). */
  private enqueue(step: (client: pg.Client) => Promise<unknown>): void {
    this.chain = this.chain
      .then(async () => {
        if (this.closed) return;
        await step(await this.connection());
      })
      .catch(() => {
        this.client?.end().catch(() => undefined);
        this.client = null;
      });
  }

  private async connection(): Promise<pg.Client> {
    if (this.client !== null) return this.client;
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', () => {
      if (this.listening) this.latch.heard();
    });
    client.on('error', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    this.client = client;
    return client;
  }
}
