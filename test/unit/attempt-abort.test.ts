import { describe, expect, it } from 'vitest';
import { AttemptAbort } from '../../packages/core/src/attempt-abort.js';

describe('AttemptAbort: a signal made only when asked for', () => {
  it('aborted before anyone asked: the signal is born aborted, with the first reason', () => {
    const abort = new AttemptAbort();
    expect(abort.aborted).toBe(false);
    expect(abort.reason).toBeUndefined();
    const first = new Error('timed out');
    abort.abort(first);
    abort.abort(new Error('cancelled'));
    expect(abort.aborted).toBe(true);
    expect(abort.reason).toBe(first);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(first);
  });

  it('asked for first: the same signal aborts later and fires its listeners once', () => {
    const abort = new AttemptAbort();
    const signal = abort.signal;
    expect(abort.signal).toBe(signal);
    let fired = 0;
    signal.addEventListener('abort', () => (fired += 1));
    expect(signal.aborted).toBe(false);
    const reason = new Error('lease lost');
    abort.abort(reason);
    abort.abort(new Error('again'));
    expect(fired).toBe(1);
    expect(signal.reason).toBe(reason);
    expect(abort.reason).toBe(reason);
  });
});
