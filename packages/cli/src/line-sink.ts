/**
 * Where `export` writes its lines: stdout, or a file that appears whole or not at all. Lines are
 * gathered into chunks of CHUNK bytes and each chunk waits for the one before (stdout: for
 * room in the pipe; a file: for the write), so memory stays at a chunk whatever the export's size.
 *
 * A file is written under a temporary name beside it (mode 0600: it holds every payload and
 * result), flushed to disk, then renamed onto its name: a failed or interrupted export leaves
 * no file at that name, and an existing one is refused unless `force`. Stdout cannot be taken
 * back: there, the export's end line is what tells a whole export from a cut one.
 */
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BadInputError } from '@tasklock/core';
import { printStreamed } from './output.js';

const CHUNK = 64 * 1024;

export interface LineSink {
  write(line: string): Promise<void>;
}

/** Runs `fn` with a sink to `path` (null: stdout); the file takes its name only once `fn` succeeded. */
export async function withLineSink<T>(path: string | null, force: boolean, fn: (sink: LineSink) => Promise<T>): Promise<T> {
  if (path === null) return withChunks(printStreamed, fn);
  if (!force && (await exists(path))) throw new BadInputError(`${path} exists; pass --force to replace it`);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  let handle: FileHandle;
  try {
    handle = await open(temporary, 'wx', 0o600);
  } catch (error) {
    throw new BadInputError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  try {
    const result = await withChunks(async (text) => {
      await handle.write(text);
    }, fn);
    await handle.sync();
    await handle.close();
    await rename(temporary, path);
    return result;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
}

async function withChunks<T>(flush: (text: string) => Promise<void>, fn: (sink: LineSink) => Promise<T>): Promise<T> {
  let pending = '';
  const result = await fn({
    async write(line) {
      pending += `${line}\n`;
      if (pending.length < CHUNK) return;
      const text = pending;
      pending = '';
      await flush(text);
    },
  });
  if (pending !== '') await flush(pending);
  return result;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
