import type { DemoKind, DemoPayload } from './handler.js';

/** Out of every 100 tasks: 1 doomed, 10 flaky, 12 slow, the rest noop. */
export function kindOf(n: number): DemoKind {
  const slot = n % 100;
  if (slot === 0) return 'doomed';
  if (slot <= 10) return 'flaky';
  if (slot <= 22) return 'slow';
  return 'noop';
}

/** `enqueue --file -` input: one JSON task per line. Retries back off briefly (50 ms, ×2). */
export function taskLines(count: number): string {
  const lines: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    const kind = kindOf(n);
    const payload: DemoPayload = kind === 'slow' ? { kind, n, ms: 10 + ((n * 7) % 50) } : { kind, n };
    const line: Record<string, unknown> = { type: `demo.${kind}`, payload, backoff: { baseMs: 50 } };
    if (kind === 'doomed') line.maxAttempts = 2;
    lines.push(JSON.stringify(line));
  }
  return `${lines.join('\n')}\n`;
}

export function expectedCounts(count: number): Record<DemoKind, number> {
  const counts: Record<DemoKind, number> = { noop: 0, slow: 0, flaky: 0, doomed: 0 };
  for (let n = 1; n <= count; n += 1) counts[kindOf(n)] += 1;
  return counts;
}
