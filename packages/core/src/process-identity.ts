import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a process is, in a way that survives pid reuse: pid + host + the kernel's start time of
 * the process (Linux: field 22 of /proc/<pid>/stat, in clock ticks since boot). A dead owner is
 * one whose pid is gone, or whose pid now belongs to a process that started at another time.
 */
export interface ProcessIdentity {
  pid: number;
  host: string;
  start: string;
}

export function currentProcess(): ProcessIdentity {
  return { pid: process.pid, host: hostname(), start: processStart(process.pid) ?? '' };
}

export function processStart(pid: number): string | null {
  return procStat(pid)?.start ?? null;
}

/** PF_EXITING in /proc/<pid>/stat's flags: set as the process starts to exit, before the kernel closes its files (and so frees its locks). */
const PF_EXITING = 0x4;

function procStat(pid: number): { state: string; start: string; exiting: boolean } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const flags = Number(fields[6]);
    const start = fields[19];
    return state === undefined || start === undefined ? null : { state, start, exiting: (flags & PF_EXITING) !== 0 };
  } catch {
    return null;
  }
}

/** Only meaningful for a process on this host. */
export function isProcessAlive(identity: Pick<ProcessIdentity, 'pid' | 'start'>): boolean {
  try {
    process.kill(identity.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = procStat(identity.pid);
  // No /proc (not Linux): the pid answering is all we can know.
  if (stat === null) return true;
  // A killed worker its parent has not reaped yet is a zombie: dead, whatever kill(0) says. One
  // still exiting is dead too: its OS locks may already be free.
  if (stat.state === 'Z' || stat.state === 'X' || stat.exiting) return false;
  return identity.start === '' || stat.start === identity.start;
}
