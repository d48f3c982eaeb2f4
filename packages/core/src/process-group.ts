import { readdirSync } from 'node:fs';
import { procStat } from './process-identity.js';

/**
 * The process group an attempt's handler runs in (`worker --exec` starts each command as the
 * leader of a new group), identified so that a reused number is not mistaken for it: the
 * group id is the leader's pid, `start` the leader's start time (empty where unknown).
 *
 * Linux never hands out a pid while a process group of that number still has members, so when
 * /proc/<pgid> belongs to a process started at another time, the group we knew is gone.
 */
export interface ProcessGroup {
  pgid: number;
  start: string;
}

/**
 * Whether a number may name a handler's group: never 0 or 1 (kill(-0) is the caller's own group,
 * kill(-1) every process it may signal), never the caller's own group.
 */
export function isForeignGroup(pgid: number): boolean {
  return Number.isSafeInteger(pgid) && pgid > 1 && pgid !== procStat(process.pid)?.pgrp;
}

/** Live (not zombie, not exiting) members of the group; 0 when it is gone. */
export function liveGroupMembers(group: ProcessGroup): number {
  if (!isForeignGroup(group.pgid)) return 0;
  const leader = procStat(group.pgid);
  if (leader !== null && group.start !== '' && leader.start !== group.start) return 0;
  if (!answersGroupSignal(group.pgid)) return 0;
  // kill(-pgid, 0) also answers for zombies nobody has reaped yet (a container whose init does
  // not reap): count the members that still run.
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 1; // no /proc: the signal is all we know, and it says the group has members
  }
  let live = 0;
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = procStat(pid);
    if (stat !== null && stat.pgrp === group.pgid && stat.state !== 'Z' && stat.state !== 'X' && !stat.exiting) live += 1;
  }
  return live;
}

export interface GroupKill {
  /** Members alive when we looked (0: nothing was killed). */
  members: number;
  /** Whether the group was gone before the bound. */
  gone: boolean;
  waitedMs: number;
}

/**
 * SIGKILLs every member of the group (SIGKILL: a handler that ignores SIGTERM or a grandchild it
 * forked must not survive) and waits, up to `timeoutMs`, until none runs. The wait polls /proc:
 * nothing in the kernel tells another process when a group it does not own becomes empty.
 */
export async function killGroupAndWait(group: ProcessGroup, timeoutMs: number): Promise<GroupKill> {
  const started = Date.now();
  const members = liveGroupMembers(group);
  if (members === 0) return { members: 0, gone: true, waitedMs: 0 };
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    try {
      process.kill(-group.pgid, 'SIGKILL');
    } catch {
      // ESRCH: gone meanwhile; EPERM: another user's group, which the wait below reports
    }
    if (liveGroupMembers(group) === 0) return { members, gone: true, waitedMs: Date.now() - started };
    if (Date.now() - started >= timeoutMs) return { members, gone: false, waitedMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

function answersGroupSignal(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
