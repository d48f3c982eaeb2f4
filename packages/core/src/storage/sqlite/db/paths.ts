import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { BadInputError } from '../../../errors.js';

/**
 * The directory an absolute file path is to live in: it must exist and be a directory, else one
 * clear refusal naming `what` the file is for ("database /q.db", "backup ./q.bak"). stat() only:
 * nothing is opened.
 */
export function existingDirectoryOf(file: string, what: string): string {
  const dir = dirname(file);
  let stat;
  try {
    stat = statSync(dir);
  } catch {
    throw new BadInputError(`directory ${dir} does not exist (for ${what})`);
  }
  if (!stat.isDirectory()) throw new BadInputError(`${dir} is not a directory (for ${what})`);
  return dir;
}
