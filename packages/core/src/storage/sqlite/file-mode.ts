import { closeSync, constants, fchmodSync, openSync } from 'node:fs';
import { BadInputError } from '../../errors.js';

/**
 * The permissions of the files tasklock creates: the database and the OS lock file. Payloads
 * often hold secrets, so owner-only by default; a group sharing a queue asks for 0o660. SQLite
 * gives the `-wal` and `-shm` it creates the database file's mode, so those follow. Files that
 * already exist keep theirs: tasklock never changes the mode of a file it did not create.
 */
export const DEFAULT_FILE_MODE = 0o600;

/** Returns `mode` if it is a mode tasklock can work with, else throws BadInputError. */
export function checkFileMode(mode: unknown): number {
  // The owner must read and write: every tasklock process opens the database read-write.
  if (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0o600 && mode <= 0o777 && (mode & 0o600) === 0o600) {
    return mode;
  }
  const shown = typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 ? `${mode} = ${formatFileMode(mode)}` : String(mode);
  throw new BadInputError(`fileMode must be an integer from 0o600 to 0o777 with owner read and write, such as 0o600 or 0o660 (got ${shown})`);
}

/** 0o644 → "0644", as ls and chmod write it. */
export function formatFileMode(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/**
 * Creates `path` with exactly `mode` and returns its read-write descriptor, or null when the
 * file already exists (then nothing is opened, and its mode is left as it is).
 *
 * O_EXCL makes "did we create it" exact even when several processes race to create the file,
 * and it never opens an existing file: closing a descriptor on a database file would drop this
 * process's SQLite locks on it (RELIABILITY.md), and with O_EXCL there is none to close.
 */
export function createWithMode(path: string, mode: number): number | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw error;
  }
  try {
    // open() narrows the mode by the umask (022 turns 0o660 into 0o640, which would lock the
    // group out); fchmod does not, so the mode is exactly the one asked for.
    fchmodSync(fd, mode);
  } catch (error) {
    // A filesystem without permissions (vfat, some network mounts) refuses fchmod; the file then
    // has mode & ~umask — never more than asked — or whatever the mount imposes.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') {
      closeSync(fd);
      throw error;
    }
  }
  return fd;
}
