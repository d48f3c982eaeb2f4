import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, readDuration } from '../../packages/cli/dist/duration.js';

/** Half the last unit formatDuration prints for a value of this size: its rounding. */
function precisionOf(ms: number): number {
  if (ms < 999.5) return 0.5;
  if (ms < 9_950) return 50;
  if (ms < 3_599_500) return 500;
  if (ms < 86_370_000) return 30_000;
  return 1_800_000;
}

/** A small deterministic generator (mulberry32), so a failure names a value that reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('durations: one syntax, read and written', () => {
  it('reads the examples of the issue and the compound forms', () => {
    const cases: [string, number][] = [
      ['250ms', 250],
      ['1.5s', 1500],
      ['1m30s', 90_000],
      ['2h', 7_200_000],
      ['1h30m', 5_400_000],
      ['7d', 604_800_000],
      ['1w2d', 777_600_000],
      ['2d3h', 183_600_000],
      ['1s500ms', 1500],
      ['1.5h', 5_400_000],
      ['500', 500],
      ['0', 0],
      [' 30s ', 30_000],
    ];
    for (const [text, ms] of cases) expect(parseDuration(text), text).toBe(ms);
  });

  it('writes the shortest form, at most two units', () => {
    const cases: [number, string][] = [
      [0, '0ms'],
      [250, '250ms'],
      [1500, '1.5s'],
      [2000, '2s'],
      [12_345, '12s'],
      [59_600, '1m'],
      [90_000, '1m30s'],
      [137_000, '2m17s'],
      [3_600_000, '1h'],
      [7_200_000, '2h'],
      [5_400_000, '1h30m'],
      [86_400_000, '1d'],
      [604_800_000, '7d'],
      [183_600_000, '2d3h'],
    ];
    for (const [ms, text] of cases) expect(formatDuration(ms), String(ms)).toBe(text);
  });

  it('parses whatever it prints, to within the rounding of the print (20,000 values over 0 ms – 400 days)', () => {
    const next = random(11);
    const values = [999.4, 999.6, 9_949, 9_951, 59_499, 59_501, 3_599_499, 3_599_501, 86_369_999, 86_370_001];
    for (let i = 0; i < 20_000; i++) {
      // Log-uniform: as many sub-second values as multi-day ones.
      values.push(Math.round(Math.exp(next() * Math.log(400 * 86_400_000))));
    }
    for (const ms of values) {
      const text = formatDuration(ms);
      const back = parseDuration(text);
      expect(Math.abs(back - ms), `${ms} → ${text} → ${back}`).toBeLessThanOrEqual(precisionOf(ms));
    }
  });

  it('refuses what it cannot read, saying why', () => {
    const cases: [string, RegExp][] = [
      ['1m30', /"30" has no unit/],
      ['s', /expected a number and a unit/],
      ['-1s', /cannot be negative/],
      ['1.2.3s', /expected a number and a unit/],
      ['30s1m', /each unit once, largest first/],
      ['1m1m', /each unit once, largest first/],
      ['1m 30s', /no spaces/],
      ['1M', /expected a number and a unit/],
      ['', /empty/],
      ['1e3', /cannot read "e3"|expected a number and a unit/],
      ['99999999999w', /too large/],
    ];
    for (const [text, why] of cases) {
      const parsed = readDuration(text);
      expect(parsed, text).toEqual({ why: expect.stringMatching(why) });
      expect(() => parseDuration(text), text).toThrow(/^invalid duration .*examples: 250ms, 1\.5s, 1m30s, 2h, 7d/);
    }
  });
});
