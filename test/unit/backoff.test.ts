import { describe, expect, it } from 'vitest';
import { backoffMs } from '@tasklock/core';

// Every retry loop (write path, worker registration, outcome persistence, the mkdir lock's
// polls, the stress enqueuer) paces itself with this one formula.
describe('backoffMs', () => {
  it('without jitter: the base, doubling per attempt, capped', () => {
    const policy = { baseDelayMs: 20, maxDelayMs: 2000, jitter: false };
    expect([1, 2, 3, 4, 7, 8, 50, 5000].map((attempt) => backoffMs(policy, attempt))).toEqual([20, 40, 80, 160, 1280, 2000, 2000, 2000]);
  });

  it('with jitter (the default): within [ceiling/2, ceiling), and not always the same', () => {
    const policy = { baseDelayMs: 10, maxDelayMs: 1000 };
    const draws = Array.from({ length: 200 }, () => backoffMs(policy, 3));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...draws)).toBeLessThan(40);
    expect(new Set(draws).size).toBeGreaterThan(1);
    expect(backoffMs(policy, 30)).toBeLessThanOrEqual(1000);
  });
});
