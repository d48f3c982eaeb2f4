/**
 * Exponential backoff: the one formula every retry loop in tasklock uses. The ceiling doubles
 * per attempt (attempt 1 waits up to `baseDelayMs`) and stops at `maxDelayMs`. With jitter (the
 * default) the delay is drawn from [ceiling/2, ceiling), so processes that failed together do
 * not retry together; without it the delay is the ceiling, for loops whose pace a log or a
 * test reads.
 */
export interface BackoffPolicy {
  baseDelayMs: number;
  maxDelayMs: number;
  jitter?: boolean;
}

export function backoffMs(policy: BackoffPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return policy.jitter === false ? ceiling : ceiling / 2 + Math.random() * (ceiling / 2);
}
