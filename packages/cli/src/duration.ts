/**
 * The one duration syntax of the command line, read and written: whatever `formatDuration`
 * prints, `parseDuration` reads back (to the precision printed), so a value copied from
 * `stats` or `doctor` into `--delay` or `--older-than` means what it said.
 *
 * Grammar: a bare number is milliseconds (`500`); otherwise one or more `<number><unit>`
 * parts, units from largest to smallest, each at most once, no spaces: `250ms`, `1.5s`,
 * `1m30s`, `1h30m`, `2h`, `7d`, `1w2d`. Units: w d h m s ms. No sign: durations are never
 * negative.
 */
import { BadInputError } from '@tasklock/core';

const UNITS = [
  ['w', 604_800_000],
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
] as const;

const UNIT_MS = new Map<string, number>(UNITS);
const RANK = new Map<string, number>(UNITS.map(([unit], index) => [unit, index]));

const BARE_MS = /^\d+(?:\.\d+)?$/;
// `ms` before `m` and `s`, or "250ms" would read as 250 minutes and a stray "s".
const PART = /(\d+(?:\.\d+)?)(ms|w|d|h|m|s)/y;

export const DURATION_EXAMPLES = 'examples: 250ms, 1.5s, 1m30s, 2h, 7d; a bare number is milliseconds';

/** "250ms", "1.5s", "1m30s", "2h", "7d", or a bare number of milliseconds → milliseconds. */
export function parseDuration(text: string): number {
  const parsed = readDuration(text);
  if ('why' in parsed) throw new BadInputError(`invalid duration ${JSON.stringify(text)}: ${parsed.why} (${DURATION_EXAMPLES})`);
  return parsed.ms;
}

/** parseDuration without the throw: the value, or why there is none (for commander's own message). */
export function readDuration(text: string): { ms: number } | { why: string } {
  const trimmed = text.trim();
  let ms = 0;
  if (BARE_MS.test(trimmed)) {
    ms = Number(trimmed);
  } else {
    let at = 0;
    let previousRank = -1;
    do {
      PART.lastIndex = at;
      const match = PART.exec(trimmed);
      if (match === null) return { why: whyNot(trimmed, at) };
      const [, number, unit] = match as unknown as [string, string, string];
      const rank = RANK.get(unit)!;
      if (rank <= previousRank) return { why: 'give each unit once, largest first' };
      previousRank = rank;
      ms += Number(number) * UNIT_MS.get(unit)!;
      at = PART.lastIndex;
    } while (at < trimmed.length);
  }
  const rounded = Math.round(ms);
  return Number.isSafeInteger(rounded) ? { ms: rounded } : { why: 'too large' };
}

/** Why `text` stops parsing at `at`, in words. */
function whyNot(text: string, at: number): string {
  const rest = text.slice(at);
  if (rest === '') return 'it is empty';
  if (at === 0 && rest.startsWith('-')) return 'a duration cannot be negative';
  if (/\s/.test(text)) return 'no spaces inside a duration';
  if (BARE_MS.test(rest)) return `${JSON.stringify(rest)} has no unit`;
  return at === 0 ? 'expected a number and a unit' : `cannot read ${JSON.stringify(rest)}`;
}

/**
 * Milliseconds → the shortest text of the syntax above, at most two units, rounded to the
 * smaller one: 250 → "250ms", 1500 → "1.5s", 90_000 → "1m30s", 7_200_000 → "2h",
 * 5_400_000 → "1h30m", 183_600_000 → "2d3h". Reading it back gives the value to within half
 * the last unit printed (0.5 ms, 50 ms under 10 s, 0.5 s under an hour, 30 s under a day,
 * 30 min beyond).
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatDuration: ${ms} is not a duration`);
  // Only clock skew between hosts makes an age negative; show it rather than hide it.
  if (Math.round(ms) < 0) return `-${formatDuration(-ms)}`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)}ms`;
  if (Math.round(ms / 100) < 100) return `${trimZero((Math.round(ms / 100) / 10).toFixed(1))}s`;
  if (Math.round(ms / 1000) < 3600) return twoUnits(Math.round(ms / 1000), 60, 'm', 's');
  if (Math.round(ms / 60_000) < 1440) return twoUnits(Math.round(ms / 60_000), 60, 'h', 'm');
  return twoUnits(Math.round(ms / 3_600_000), 24, 'd', 'h');
}

/** `count` of the small unit → "<big><bigUnit><rest><smallUnit>", parts that are 0 left out. */
function twoUnits(count: number, perBig: number, bigUnit: string, smallUnit: string): string {
  const big = Math.floor(count / perBig);
  const rest = count % perBig;
  if (big === 0) return `${rest}${smallUnit}`;
  return rest === 0 ? `${big}${bigUnit}` : `${big}${bigUnit}${rest}${smallUnit}`;
}

function trimZero(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed;
}
