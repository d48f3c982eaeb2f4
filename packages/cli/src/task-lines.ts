/**
 * `enqueue --file`: one JSON task per line, `{"type", "payload", ...EnqueueOptions}`. Blank
 * lines are skipped; the first bad line fails the whole file, naming its line number, before
 * anything is written. Also where that text comes from: a file or stdin, decoded.
 */
import { readFile } from 'node:fs/promises';
import { BadInputError, type EnqueueItem } from '@tasklock/core';

const FIELDS = new Set(['type', 'payload', 'queue', 'priority', 'runAt', 'delayMs', 'maxAttempts', 'backoff', 'uniqueKey', 'timeoutMs']);

export interface TaskLine {
  line: number;
  item: EnqueueItem;
}

/** The text of a file, or of stdin for "-", as UTF-8 without a byte-order mark. */
export async function readInput(path: string): Promise<string> {
  if (path !== '-') {
    try {
      return decodeInput(await readFile(path), path);
    } catch (error) {
      if (error instanceof BadInputError) throw error;
      throw new BadInputError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return decodeInput(Buffer.concat(chunks), 'stdin');
}

/**
 * UTF-8 text. Editors on Windows often start a file with a byte-order mark, which JSON.parse
 * rejects as an invisible "unexpected token": it is dropped. UTF-16 (PowerShell's `>`) would
 * decode to noise and fail on every line, so it is refused by name instead.
 */
export function decodeInput(bytes: Buffer, source: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new BadInputError(`${source} is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8`);
  }
  return stripBom(bytes.toString('utf8'));
}

/** Text without a leading U+FEFF (a UTF-8 byte-order mark, or one pasted into an argument). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
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
