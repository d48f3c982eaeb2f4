// Types of scripts/bench/ledger.mjs, for its unit test.

export interface Accounting {
  handled: number;
  lost: number;
  doubled: number;
  unknown?: number;
}

export function idLogs(dir: string, name: string, processes: number): string[];

export function accounting(enqueued: Array<string | number> | null, logs: string[]): Accounting;
