/**
 * Argument parsers for commander options. Each is strict (the whole text must parse, "12abc"
 * is not 12) and throws commander's InvalidArgumentError, so a bad value is a usage error
 * (exit 2) whose message names the option.
 */
import { InvalidArgumentError } from 'commander';
import { checkFileMode, LOCK_STRATEGIES, parseLockStrategy, type LockStrategyOption, isStatusView, isTaskStatus, STATUS_VIEWS, TASK_STATUSES, type StatusView, type TaskStatus } from '@tasklock/core';
import { DURATION_EXAMPLES, readDuration } from './duration.js';

const INTEGER = /^-?\d+$/;

export function integer(min = Number.MIN_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const value = INTEGER.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value)) throw new InvalidArgumentError('must be an integer.');
    if (value < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}.`);
    return value;
  };
}

export const positiveInteger = integer(1);

/** A task id: a positive integer. */
export function taskId(text: string): number {
  return positiveInteger(text);
}

/** A duration ("250ms", "1m30s", "2h", or bare milliseconds) → milliseconds; see duration.ts. */
export function duration(text: string): number {
  const parsed = readDuration(text);
  if ('why' in parsed) throw new InvalidArgumentError(`${parsed.why} (${DURATION_EXAMPLES}).`);
  return parsed.ms;
}

/** An ISO 8601 time (or anything Date.parse accepts) → epoch ms. */
export function isoTime(text: string): number {
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('must be a time such as 2030-01-01T12:00:00Z.');
  return ms;
}

export function status(text: string): TaskStatus {
  if (!isTaskStatus(text)) throw new InvalidArgumentError(`must be one of ${TASK_STATUSES.join(', ')}.`);
  return text;
}

/** "a,b , c" → ["a", "b", "c"] (empty items dropped). */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function statusList(text: string): TaskStatus[] {
  return commaList(text).map(status);
}

/** A stored status or `scheduled` (pending, not yet due): what list, cancel and retry filter on. */
export function statusView(text: string): StatusView {
  if (!isStatusView(text)) throw new InvalidArgumentError(`must be one of ${STATUS_VIEWS.join(', ')} (comma-separated).`);
  return text;
}

export function statusViewList(text: string): StatusView[] {
  const statuses = commaList(text).map(statusView);
  if (statuses.length === 0) throw new InvalidArgumentError(`must name at least one of ${STATUS_VIEWS.join(', ')}.`);
  return statuses;
}

/** Names (types, queues), comma-separated: at least one. */
export function nameList(text: string): string[] {
  const names = commaList(text);
  if (names.length === 0) throw new InvalidArgumentError('must name at least one (comma-separated).');
  return names;
}

/** Variadic task ids: commander calls this once per argument with what it gathered so far. */
export function taskIds(text: string, previous: number[] | undefined): number[] {
  return [...(previous ?? []), taskId(text)];
}

const OCTAL_MODE = /^(0o?)?[0-7]{3}$/;

/** --lock: auto or a strategy (core's list; the old name flock still means os). */
export function lockStrategy(text: string): LockStrategyOption {
  try {
    return parseLockStrategy(text.trim());
  } catch {
    throw new InvalidArgumentError(`must be one of auto, ${LOCK_STRATEGIES.join(', ')}.`);
  }
}

/** A file mode in octal, as chmod takes it: "0660", "660" or "0o660". */
export function fileMode(text: string): number {
  const trimmed = text.trim();
  const mode = OCTAL_MODE.test(trimmed) ? Number.parseInt(trimmed.replace(/^0o?/, ''), 8) : Number.NaN;
  try {
    // The rule itself (owner read and write, nothing beyond 0777) is core's.
    return checkFileMode(mode);
  } catch {
    throw new InvalidArgumentError('must be an octal mode from 0600 to 0777 that lets the owner read and write, such as 0600 or 0660.');
  }
}
