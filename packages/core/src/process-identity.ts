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

export interface ProcStat {
  state: string;
  /** Process group id (field 5). */
  pgrp: number;
  start: string;
  exiting: boolean;
}

/** Fields of one /proc/<pid>/stat line; null if it is not one. */
export function parseProcStat(text: string): ProcStat | null {
  // The command name (field 2) may contain spaces and parentheses: count from the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const fields = text.slice(close + 2).split(' ');
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const flags = Number(fields[6]);
  const start = fields[19];
  if (!state || start === undefined || !Number.isFinite(flags) || !Number.isInteger(pgrp)) return null;
  return { state, pgrp, start, exiting: (flags & PF_EXITING) !== 0 };
}

export function procStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Whether a process with this identity runs now. Only meaningful for a process on this host.
 *
 * On Linux the answer comes from one read of /proc/<pid>/stat, so it is one snapshot: a check
 * that first asked kill(pid, 0) and then read /proc could see a zombie answer the signal, lose
 * its /proc entry to the parent's reap in between, and call it alive.
 */
export function isProcessAlive(identity: Pick<ProcessIdentity, 'pid' | 'start'>): boolean {
  const stat = procStat(identity.pid);
  if (stat !== null) return isAliveByStat(stat, identity.start);
  // No entry: the process is gone, or /proc is missing (not Linux) or hides it (hidepid, another
  // user). Then the signal is all we can ask; it is conservative, a live process is never dead.
  return answersSignal(identity.pid);
}

/**
 * A killed worker its parent has not reaped yet is a zombie: dead, whatever kill(0) says. One
 * still exiting is dead too: its OS locks may already be free. A pid that now belongs to a
 * process started at another time is a reused pid: its owner is dead.
 */
export function isAliveByStat(stat: ProcStat, start: string): boolean {
  if (stat.state === 'Z' || stat.state === 'X' || stat.exiting) return false;
  return start === '' || stat.start === start;
}

function answersSignal(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
