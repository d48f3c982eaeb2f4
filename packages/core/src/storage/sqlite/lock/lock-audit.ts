import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { isProcessAlive, processStart } from '../../../process-identity.js';

/**
 * Independent check that the write lock excludes: with TASKLOCK_LOCK_AUDIT=<file> set, every
 * holder writes a marker into <file> right after acquiring and checks it is still its own (and
 * clears it) right before releasing; a holder that finds someone else's marker on entry or exit
 * appends a line to <file>.violations. The stress harness sets it for every process it forks and
 * fails invariant 7 on any violation. A marker left by a holder that died holding the lock (the
 * kernel freed its lock; SIGKILL gave it no chance to clear the marker) is not an overlap: the
 * marker names pid and process start time, and a dead one is taken over. A plain file, never a
 * database file.
 */
export class LockAudit {
  private holds = 0;
  private marker = '';

  constructor(private readonly file: string) {}

  static fromEnv(): LockAudit | null {
    const file = process.env.TASKLOCK_LOCK_AUDIT;
    return file ? new LockAudit(file) : null;
  }

  private readonly start = processStart(process.pid) ?? '';

  enter(): void {
    const found = this.read();
    if (found !== '') {
      const [pid, start] = found.split(':');
      // A holder that died inside the lock left its marker: taking it over is no violation.
      if (isProcessAlive({ pid: Number(pid), start: start ?? '' })) this.violation(`entered while ${found} held the lock`);
    }
    this.holds += 1;
    this.marker = `${process.pid}:${this.start}:${this.holds}`;
    writeFileSync(this.file, this.marker);
  }

  exit(): void {
    const found = this.read();
    if (found !== this.marker) this.violation(`left the lock, found ${found || 'no marker'} instead of ${this.marker}`);
    else writeFileSync(this.file, '');
  }

  private read(): string {
    try {
      return readFileSync(this.file, 'utf8');
    } catch {
      return '';
    }
  }

  private violation(what: string): void {
    appendFileSync(`${this.file}.violations`, `${new Date().toISOString()} pid ${process.pid}: ${what}\n`);
  }
}
