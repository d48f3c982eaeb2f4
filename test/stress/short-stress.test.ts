import { describe, expect, it } from 'vitest';
import { stress } from '../utils/stress-run.js';

describe('short stress run (CI): real workers, SIGKILL chaos, every fault kind', () => {
  it('keeps every invariant with kills, busy, full, sigstop, migrate and orphans faults', async () => {
    const report = await stress(['--writers', '4', '--tasks', '2500', '--kill-every', '400', '--faults', 'busy,full,sigstop,migrate,orphans', '--seed', '42', '--lease', '1500']);
    expect(report.check.invariants.filter((i) => i.status === 'FAIL')).toEqual([]);
    expect(report.check.invariants.filter((i) => i.status === 'PASS')).toHaveLength(8);
    // 2500 from the enqueuers, 4 of the orphans fault's own.
    expect(report.check.facts.tasks).toBe(2504);
    expect(report.kills).toBeGreaterThan(0);
    expect(report.faults.map((f) => f.fault)).toEqual(['busy', 'full', 'sigstop', 'migrate', 'orphans']);
    // The overlap invariant was exercised: a shell worker died alone with commands running,
    // and their tasks ran again.
    expect(report.faults.find((f) => f.fault === 'orphans')?.goneMs).toBeTypeOf('number');
    expect(report.check.facts.shellReruns).toBeGreaterThan(0);
    // `full` needs a tmpfs of its own, which needs root; anywhere else it says why it skipped.
    const skipped = report.faults.filter((f) => f.skipped);
    if (process.getuid?.() === 0) expect(skipped).toEqual([]);
    else expect(skipped.map((f) => f.fault)).toEqual(['full']);
    expect(report.lock_.fromWorkers).toBeGreaterThan(0);
    // A worker must ride out a full disk, a busy database and a frozen lock holder, not exit.
    expect(report.unexpectedExits).toEqual([]);
    expect(report.passed).toBe(true);
  }, 300_000);

  it('holds with the proper-lockfile strategy and kills too', async () => {
    const report = await stress(['--writers', '3', '--tasks', '400', '--kill-every', '1500', '--lock', 'lockfile', '--seed', '7', '--lease', '3000']);
    expect(report.check.invariants.filter((i) => i.status === 'FAIL')).toEqual([]);
    expect(report.unexpectedExits).toEqual([]);
    expect(report.passed).toBe(true);
  }, 300_000);
});
