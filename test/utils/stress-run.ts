import { execa } from 'execa';
import { expect } from 'vitest';

const STRESS = new URL('../../packages/stress/dist/main.js', import.meta.url).pathname;

/** The parts of `tasklock-stress --json` the stress tests read. */
export interface StressReport {
  passed: boolean;
  lock_: { fromWorkers: number };
  kills: number;
  groupKills: number;
  storeOutages: { logged: { began: number; ended: number; workers: number } };
  unexpectedExits: { id: string; lastError: string }[];
  faults: { fault: string; skipped?: string; goneMs?: number; detail: string }[];
  check: { invariants: { name: string; status: string; detail: string }[]; facts: { tasks: number; reclaimed: number; shellExecutions: number; shellReruns: number } };
}

/** Runs the built harness with `args`; its invariant table is printed, and its exit code must match its verdict. */
export async function stress(args: string[]): Promise<StressReport> {
  const run = await execa(process.execPath, [STRESS, ...args, '--json'], { reject: false, timeout: 240_000 });
  if (run.exitCode !== 0 && run.stdout === '') throw new Error(`tasklock-stress failed (${run.exitCode}): ${run.stderr}`);
  const report = JSON.parse(run.stdout) as StressReport;
  const table = report.check.invariants.map((i) => `${i.status} ${i.name}: ${i.detail}`).join('\n');
  console.log(`tasklock-stress ${args.join(' ')}\n${table}\nfaults: ${JSON.stringify(report.faults)}`);
  expect(run.exitCode, table).toBe(report.passed ? 0 : 1);
  return report;
}

/** The harness's exit and stderr for arguments it must refuse. */
export async function stressRefusal(args: string[]): Promise<{ code: number | undefined; stderr: string }> {
  const run = await execa(process.execPath, [STRESS, ...args], { reject: false });
  return { code: run.exitCode, stderr: String(run.stderr) };
}
