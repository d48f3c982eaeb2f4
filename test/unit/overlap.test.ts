import { describe, expect, it } from 'vitest';
import { checkOverlap, type Effect } from '../../packages/stress/dist/overlap.js';

// The stress checker's invariant 8 must fail on the side-effect log of an attempt that outlived
// its worker, and pass a clean hand-over: a checker that cannot fail proves nothing.

const line = (task: number, attempt: number, what: string | null, at: number): Effect => ({ task, attempt, what, at });

describe('stress invariant 8: no two executions of one task overlap', () => {
  it('passes attempts that follow one another, and ignores in-process lines', () => {
    const result = checkOverlap([
      line(1, 1, 'start', 100), line(1, 1, 'tick', 120), // killed after its last tick
      line(1, 2, 'start', 400), line(1, 2, 'tick', 420), line(1, 2, 'end', 430),
      line(2, 1, null, 0), line(2, 2, null, 0),
      line(3, 1, 'start', 50), line(3, 1, 'end', 60),
    ]);
    expect(result).toEqual({ errors: [], executions: 3, reruns: 1, closestGapMs: 280 });
  });

  it('fails when an earlier attempt leaves a trace after the next attempt started', () => {
    const result = checkOverlap([
      line(7, 1, 'start', 100), line(7, 2, 'start', 300), line(7, 1, 'tick', 320), line(7, 2, 'end', 350), line(7, 1, 'end', 3100),
    ]);
    expect(result.errors).toEqual(['task 7: attempt 1 still ran 2800 ms after attempt 2 started']);
    expect(result.reruns).toBe(1);
  });
});
