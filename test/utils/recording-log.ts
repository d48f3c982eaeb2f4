import type { WorkerLogLevel } from '@tasklock/core';

/** A worker `log` that keeps each line as "<level> <message>", for a test to read back. */
export function recordingLog() {
  const lines: string[] = [];
  return { lines, log: (level: WorkerLogLevel, message: string) => lines.push(`${level} ${message}`) };
}
