import { readdirSync, readFileSync } from 'node:fs';

/**
 * Members of a process group that still run (not zombies), read straight from /proc: the tests
 * judge the queue's kill-and-wait with their own eyes, not with the code under test.
 */
export function liveMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited between the listing and the read
    }
    // pid (comm) state ppid pgrp …: count from the last ')' (comm may hold anything)
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

/** Polls until none of the groups has a live member; the time it took, or throws after `timeoutMs`. */
export async function waitUntilGroupsGone(pgids: readonly number[], timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (pgids.every((pgid) => liveMembers(pgid).length === 0)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`process groups still alive after ${timeoutMs} ms: ${pgids.map((g) => `${g}: [${liveMembers(g).join(', ')}]`).join('; ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Kills whatever is left of the groups (test clean-up). */
export function killGroups(pgids: readonly number[]): void {
  for (const pgid of pgids) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
