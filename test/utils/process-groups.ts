import { liveGroupMembers } from '../../packages/stress/dist/process-groups.js';

/** Live members of a process group, from /proc (the stress harness's reader, not the code under test). */
export const liveMembers = liveGroupMembers;

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
