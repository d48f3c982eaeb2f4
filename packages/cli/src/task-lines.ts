/**
 * `enqueue --file`: one JSON task per line, `{"type", "payload", ...EnqueueOptions}`. Blank
 * lines are skipped; the first bad line fails the whole file, naming its line number, before
 * anything is written.
 */
import { readFile } from 'node:fs/promises';
import { BadInputError, type EnqueueItem } from '@tasklock/core';

const FIELDS = new Set(['type', 'payload', 'queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'uniqueKey', 'timeoutMs']);

export interface TaskLine {
  line: number;
  item: EnqueueItem;
}

export async function readInput(path: string): Promise<string> {
  if (path !== '-') {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      throw new BadInputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function parseTaskLines(text: string, source: string): TaskLine[] {
  const tasks: TaskLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const fail = (message: string): never => {
      throw new BadInputError(`${source} line ${line}: ${message}`);
    };
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      fail(`not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('must be a JSON object {"type": …, "payload": …}');
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!FIELDS.has(key)) fail(`unknown field ${JSON.stringify(key)} (known: ${[...FIELDS].join(', ')})`);
    }
    if (typeof record.type !== 'string') fail('"type" must be a string');
    if (typeof record.runAt === 'string') {
      const ms = Date.parse(record.runAt);
      if (!Number.isFinite(ms)) fail(`runAt ${JSON.stringify(record.runAt)} is not a time`);
      record.runAt = ms;
    }
    tasks.push({ line, item: { ...record, payload: record.payload ?? null } as EnqueueItem });
  });
  return tasks;
}
