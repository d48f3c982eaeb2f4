// The worker's per-attempt buffer for ctx.progress / ctx.count: one write at a time, in order;
// the outcome's report is taken only after the write ahead of it ended; a failed write's deltas
// come back; a fence refusal ends background writes.
import { describe, expect, it } from 'vitest';
import { AttemptReporter, type ReporterSettings } from '../../packages/core/src/attempt-reporter.js';
import { LeaseLostError, PersistenceError } from '../../packages/core/src/errors.js';
import type { JsonText } from '../../packages/core/src/task.js';

interface Sent {
  progress: string | undefined;
  counts: Record<string, number>;
  /** Settles this write (resolve, or reject with `error`). */
  end(error?: unknown): void;
}

/** A reporter whose writes wait for the test to end them, recording what each carried and how many ran at once. */
function harness(overrides: Partial<ReporterSettings> = {}) {
  const sent: Sent[] = [];
  const waiting: ((sent: Sent) => void)[] = [];
  let inFlight = 0;
  let mostInFlight = 0;
  const reporter = new AttemptReporter({
    taskId: 1,
    progressEveryMs: 1,
    countsEveryMs: 1,
    maxProgressBytes: 1024,
    write: (progress: JsonText | undefined, counts: Record<string, number>) =>
      new Promise<void>((resolve, reject) => {
        inFlight += 1;
        mostInFlight = Math.max(mostInFlight, inFlight);
        const entry: Sent = {
          progress: progress?.text,
          counts: { ...counts },
          end: (error) => {
            inFlight -= 1;
            if (error === undefined) resolve();
            else reject(error);
          },
        };
        sent.push(entry);
        waiting.shift()?.(entry);
      }),
    failed: () => undefined,
    succeeded: () => undefined,
    ...overrides,
  });
  /** The next write the reporter sends (already sent, or when it comes). */
  const nextWrite = (index: number) => (sent[index] ? Promise.resolve(sent[index]) : new Promise<Sent>((resolve) => waiting.push(resolve)));
  return { reporter, sent, nextWrite, mostInFlight: () => mostInFlight };
}

describe('AttemptReporter', () => {
  it('one write at a time: what comes during a write waits for it, and the outcome takes only what no write carried', async () => {
    const { reporter, nextWrite, mostInFlight } = harness();
    reporter.count('tokens', 2);
    reporter.progress({ step: 1 });
    const first = await nextWrite(0);
    expect(first).toMatchObject({ progress: '{"step":1}', counts: { tokens: 2 } });
    reporter.count('tokens', 3);
    const heartbeat = reporter.writeNow({ step: 2 }); // queued behind the first
    const final = reporter.final();
    first.end();
    const second = await nextWrite(1);
    expect(second).toMatchObject({ progress: '{"step":2}', counts: { tokens: 3 } });
    reporter.count('tokens', 4); // while the heartbeat is in flight: for the outcome
    second.end();
    await heartbeat;
    expect(await final).toEqual({ progress: null, counts: [{ name: 'tokens', delta: 4 }] });
    expect(mostInFlight()).toBe(1);
  });

  it('a failed write puts its deltas back (a newer progress wins) and they go with the outcome', async () => {
    const failures: unknown[] = [];
    const { reporter, nextWrite } = harness({ failed: (error) => failures.push(error) });
    reporter.count('tokens', 5);
    reporter.progress('old');
    const first = await nextWrite(0);
    reporter.progress('new');
    reporter.count('tokens', 1);
    const final = reporter.final();
    first.end(new PersistenceError('disk full', { transient: true }));
    expect(await final).toEqual({ progress: '"new"', counts: [{ name: 'tokens', delta: 6 }] });
    expect(failures).toHaveLength(1);
  });

  it('a refusal by the fence drops the buffer and ends background writes; ctx.heartbeat still rejects', async () => {
    const { reporter, sent, nextWrite } = harness();
    reporter.count('tokens', 5);
    const first = await nextWrite(0);
    first.end(new LeaseLostError(1, 'heartbeat', 'running'));
    await reporter.final().then(() => undefined); // lets the chain end
    reporter.count('tokens', 1); // after the end: nothing is scheduled
    expect(sent).toHaveLength(1);
    const again = reporter.writeNow();
    (await nextWrite(1)).end(new LeaseLostError(1, 'heartbeat', 'running'));
    await expect(again).rejects.toBeInstanceOf(LeaseLostError);
  });
});
