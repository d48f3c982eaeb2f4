import { BadInputError } from './errors.js';
import type { FilterInput, NewTask } from './storage/rows.js';
import type { CounterDelta } from './storage/store.js';
import { isStatusView, STATUS_VIEWS, type StatusView } from './status-view.js';
import { DEFAULT_BACKOFF, toJsonText, type Backoff } from './task.js';

export interface EnqueueOptions {
  queue?: string;
  /** Higher runs first (default 0). */
  priority?: number;
  /** Not before this time (epoch ms or Date); exclusive with delayMs. */
  runAt?: number | Date;
  delayMs?: number;
  /** Attempts in all, including the first (default 3). */
  maxAttempts?: number;
  backoff?: Partial<Backoff>;
  /** Idempotency among live tasks: enqueue returns the pending/running task holding this key. */
  uniqueKey?: string;
  /** A worker aborts and fails an attempt running longer than this. */
  timeoutMs?: number;
}

export interface EnqueueItem extends EnqueueOptions {
  type: string;
  payload: unknown;
}

export interface ClaimOptions {
  workerId: string;
  queue?: string;
  types?: readonly string[] | null;
  limit?: number;
  leaseMs?: number;
}

/** Which tasks: every field given narrows the set; a list means any of its values. */
export interface TaskFilter {
  /** Status views: `pending` is due, `scheduled` is pending with run_at in the future. */
  status?: StatusView | readonly StatusView[] | undefined;
  type?: string | readonly string[] | undefined;
  queue?: string | readonly string[] | undefined;
  /** Only tasks last updated at least this long ago (ms), as purge's olderThanMs. */
  olderThanMs?: number | undefined;
}

export interface ListFilter extends TaskFilter {
  /** The cursor: only tasks after this id in the listing order (a page's `next`). */
  afterId?: number | undefined;
  /** At most this many (default 100). */
  limit?: number | undefined;
  /** By id: `asc` oldest first (default), `desc` newest first. */
  order?: 'asc' | 'desc' | undefined;
}

export interface ListInput {
  filter: FilterInput;
  afterId: number | null;
  limit: number;
  order: 'asc' | 'desc';
}

const NAME = /^[\w.:/@-]{1,200}$/;

/** An integer option of at least `min`: the one check counts and durations in milliseconds go through. */
export function integerAtLeast(what: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new BadInputError(`${what} must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/** A queue or type name: 1-200 characters of [A-Za-z0-9_.:/@-]. */
export function isName(value: unknown): value is string {
  return typeof value === 'string' && NAME.test(value);
}

/**
 * ctx.count's deltas, summed per name: names as type names, deltas whole numbers (so that sums
 * are exact in both stores' 64-bit integers), negative ones allowed (a correction). Zero sums are
 * dropped: they would write nothing.
 */
export function validateCounts(counts: Readonly<Record<string, number>>, taskId?: number): CounterDelta[] {
  const deltas: CounterDelta[] = [];
  for (const [name, delta] of Object.entries(counts)) {
    checkCount(name, delta, taskId);
    if (delta !== 0) deltas.push({ name, delta });
  }
  return deltas;
}

/** One ctx.count(name, delta): the error says which argument is wrong and what it must be. */
export function checkCount(name: unknown, delta: unknown, taskId?: number): void {
  if (!isName(name)) throw new BadInputError(`count: name must be 1-200 characters of [A-Za-z0-9_.:/@-], got ${JSON.stringify(name)}`, { taskId });
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new BadInputError(`count: delta of ${name} must be a whole number (a safe integer), got ${String(delta)}`, { taskId });
  }
}

/** Most tasks keep the default backoff: its JSON is made once, not once per task of a bulk enqueue. */
const DEFAULT_BACKOFF_JSON = JSON.stringify(DEFAULT_BACKOFF);

/** `traceContext`: the producer's (tracing/trace-context.ts), the same for every item of one call. */
export function validateEnqueue(item: EnqueueItem, now: number, maxPayloadBytes: number, index: number, total: number, traceContext: string | null = null): NewTask {
  const where = total > 1 ? `task #${index + 1}: ` : '';
  const fail = (message: string): never => {
    throw new BadInputError(`${where}${message}`);
  };
  if (typeof item !== 'object' || item === null) fail('must be an object');
  if (typeof item.type !== 'string' || !NAME.test(item.type)) fail(`type must be 1-200 characters of [A-Za-z0-9_.:/@-], got ${JSON.stringify(item.type)}`);
  const queue = item.queue ?? 'default';
  if (typeof queue !== 'string' || !NAME.test(queue)) fail(`queue must be 1-200 characters of [A-Za-z0-9_.:/@-], got ${JSON.stringify(queue)}`);
  const priority = item.priority ?? 0;
  if (!Number.isSafeInteger(priority)) fail(`priority must be an integer, got ${String(priority)}`);
  const maxAttempts = item.maxAttempts ?? 3;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) fail(`maxAttempts must be an integer ≥ 1, got ${String(maxAttempts)}`);
  if (item.runAt !== undefined && item.delayMs !== undefined) fail('give runAt or delayMs, not both');
  let runAt = now;
  if (item.runAt !== undefined) {
    runAt = item.runAt instanceof Date ? item.runAt.getTime() : item.runAt;
    if (!Number.isFinite(runAt)) fail('runAt is not a valid time');
  }
  if (item.delayMs !== undefined) {
    if (!Number.isFinite(item.delayMs) || item.delayMs < 0) fail(`delayMs must be ≥ 0, got ${String(item.delayMs)}`);
    runAt = now + Math.round(item.delayMs);
  }
  let backoffJson = DEFAULT_BACKOFF_JSON;
  if (item.backoff !== undefined) {
    const backoff: Backoff = { ...DEFAULT_BACKOFF, ...item.backoff };
    if (![backoff.baseMs, backoff.factor, backoff.maxMs].every((n) => Number.isFinite(n) && n >= 0)) {
      fail('backoff baseMs, factor and maxMs must be non-negative numbers');
    }
    backoffJson = JSON.stringify(backoff);
  }
  const uniqueKey = item.uniqueKey ?? null;
  if (uniqueKey !== null && (typeof uniqueKey !== 'string' || uniqueKey.length === 0 || uniqueKey.length > 500)) {
    fail('uniqueKey must be a non-empty string of at most 500 characters');
  }
  const timeoutMs = item.timeoutMs ?? null;
  if (timeoutMs !== null && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1)) fail(`timeoutMs must be a positive integer, got ${String(timeoutMs)}`);
  let payload: string;
  try {
    payload = toJsonText(item.payload, 'payload', maxPayloadBytes);
  } catch (error) {
    return fail((error as Error).message);
  }
  return {
    type: item.type,
    queue,
    priority,
    payload,
    maxAttempts,
    backoff: backoffJson,
    uniqueKey,
    timeoutMs,
    runAt: Math.round(runAt),
    delayMs: item.runAt === undefined ? Math.round(item.delayMs ?? 0) : null,
    traceContext,
  };
}

/** Shorter leases than this would expire between two heartbeats of a busy worker. */
export const MIN_LEASE_MS = 100;

export function validateClaim(options: ClaimOptions): { workerId: string; queue: string; types: readonly string[] | null; limit: number; leaseMs: number } {
  const { workerId } = options;
  if (typeof workerId !== 'string' || workerId.length === 0) throw new BadInputError('claim: workerId is required');
  const queue = options.queue ?? 'default';
  const limit = options.limit ?? 1;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new BadInputError(`claim: limit must be 1-10000, got ${String(limit)}`);
  const leaseMs = integerAtLeast('claim: leaseMs', options.leaseMs ?? 30_000, MIN_LEASE_MS);
  const types = options.types == null || options.types.length === 0 ? null : [...options.types];
  return { workerId, queue, types, limit, leaseMs };
}

function listOf<T>(value: T | readonly T[] | undefined, what: string, check: (item: unknown) => boolean, expected: string): T[] | null {
  if (value === undefined) return null;
  const items = Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
  if (items.length === 0) throw new BadInputError(`${what}: give at least one, or leave it out`);
  for (const item of items) if (!check(item)) throw new BadInputError(`${what}: ${JSON.stringify(item)} is not ${expected}`);
  return [...new Set(items)];
}

export function validateFilter(filter: TaskFilter, now: number): FilterInput {
  if (typeof filter !== 'object' || filter === null) throw new BadInputError('filter must be an object');
  const name = isName;
  const olderThanMs = filter.olderThanMs;
  if (olderThanMs !== undefined && (!Number.isFinite(olderThanMs) || olderThanMs < 0)) {
    throw new BadInputError(`olderThanMs must be a non-negative number, got ${String(olderThanMs)}`);
  }
  return {
    statuses: listOf(filter.status, 'status', isStatusView, `a status (one of ${STATUS_VIEWS.join(', ')})`),
    types: listOf(filter.type, 'type', name, 'a task type'),
    queues: listOf(filter.queue, 'queue', name, 'a queue name'),
    updatedBefore: olderThanMs === undefined ? null : now - olderThanMs,
  };
}

export function validateList(filter: ListFilter, now: number): ListInput {
  const limit = filter.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new BadInputError('limit must be a positive integer');
  const order = filter.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw new BadInputError(`order must be asc or desc, got ${String(order)}`);
  const afterId = filter.afterId ?? null;
  if (afterId !== null && (!Number.isSafeInteger(afterId) || afterId < 0)) throw new BadInputError('afterId must be a non-negative integer');
  return { filter: validateFilter(filter, now), afterId, limit, order };
}
