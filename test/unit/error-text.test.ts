import { describe, expect, it } from 'vitest';
import { BadInputError, errorSummary, errorText, MAX_ERROR_BYTES, TaskFailure } from '@tasklock/core';

/** The one helper that writes an error down (core/src/error-text.ts). */
describe('errorText', () => {
  it('keeps the class, every line of the message and the frames', () => {
    const text = errorText(new TypeError('multi\nline error'));
    expect(text).toMatch(/^TypeError: multi\nline error\n {4}at .*error-text\.test\.ts:\d+:\d+/);
    expect(text.split('\n').slice(2).every((line) => line.startsWith('    at '))).toBe(true);
  });

  it('follows causes, names codes the way Node does, and survives a cycle', () => {
    const inner = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const outer = new Error('could not send', { cause: inner });
    expect(errorText(outer)).toMatch(/^Error: could not send\n {4}at [^]*\ncaused by: Error \[ECONNRESET\]: socket hang up\n {4}at /);
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(errorText(a)).toContain('caused by: (a cycle back to an error above)');
    expect(errorText(new BadInputError('no'))).toMatch(/^BadInputError \[bad-input\]: no\n/);
  });

  it('thrown non-errors: strings as they are, objects as JSON', () => {
    expect(errorText('plain words')).toBe('plain words');
    expect(errorText({ status: 503 })).toBe('{"status":503}');
    expect(errorText(undefined)).toBe('undefined');
    expect(errorText(12n)).toBe('12');
  });

  it('TaskFailure and detail "message": the message alone', () => {
    expect(errorText(new TaskFailure('command exited with code 3: a\nb'))).toBe('command exited with code 3: a\nb');
    expect(errorText(new Error('timed out after 5 ms'), { detail: 'message' })).toBe('timed out after 5 ms');
    expect(errorSummary(new TypeError('first\nsecond'))).toBe('first');
  });

  it('is bounded in UTF-8 bytes, never splits a character, and marks the cut', () => {
    for (const size of [MAX_ERROR_BYTES - 40, MAX_ERROR_BYTES * 3, 100_000]) {
      for (const char of ['x', 'é', '€', '😀']) {
        const text = errorText(new Error(char.repeat(Math.ceil(size / Buffer.byteLength(char)))));
        expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
        expect(text).not.toContain('\uFFFD');
        expect(text).toMatch(/\n… \[truncated \d+ bytes\]\n {4}at /);
      }
    }
    const message = 'y'.repeat(20_000);
    const cut = errorText(new TaskFailure(message), { maxBytes: 1000 });
    const dropped = Number(/\[truncated (\d+) bytes\]$/.exec(cut)![1]);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(1000);
    expect(cut.indexOf('\n…')).toBe(20_000 - dropped);
  });
});
