import { readdirSync, readFileSync } from 'node:fs';

/**
 * The pids of a process group's members that still run (zombies excluded), read from /proc by
 * the harness itself — and by the tests and the bench, which import it from here: the evidence
 * that handler processes died does not come from the code under test.
 */
export function liveGroupMembers(pgid: number): number[] {
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
