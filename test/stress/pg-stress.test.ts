// The short stress run on PostgreSQL (CI): real `tasklock worker` processes, SIGKILL chaos (pid
// alone and whole process group), the PostgreSQL faults and every invariant, read back from the
// database by the same checker as on SQLite.
import { afterEach, describe, expect, it } from 'vitest';
import { dropPgDatabases, makePgDatabase } from '../utils/pg-database.js';
import { stress, stressRefusal, type StressReport } from '../utils/stress-run.js';

afterEach(() => dropPgDatabases());

function expectEveryInvariant(report: StressReport): void {
  expect(report.check.invariants.filter((i) => i.status === 'FAIL')).toEqual([]);
  // 7 (the lock audit) has no tasklock lock to watch on PostgreSQL: row locks exclude the writers.
  expect(report.check.invariants.filter((i) => i.status === 'N/A').map((i) => i.name)).toEqual(['7 the lock never had two holders']);
  expect(report.check.invariants.filter((i) => i.status === 'PASS')).toHaveLength(7);
  expect(report.unexpectedExits).toEqual([]);
  expect(report.passed).toBe(true);
}

describe('short stress run on PostgreSQL (CI)', () => {
  it('a private server: kills (pid and group), connections cut, statement timeouts, a restart mid-run, sigstop, migrate and orphans keep every invariant', async () => {
    const report = await stress([
      '--pg-private', '--writers', '4', '--tasks', '800', '--kill-every', '400', '--faults', 'pg-kill,pg-timeout,pg-restart,sigstop,migrate,orphans',
      '--seed', '42', '--lease', '1500',
    ]);
    expectEveryInvariant(report);
    expect(report.check.facts.tasks).toBe(804);
    expect(report.kills).toBeGreaterThan(0);
    expect(report.groupKills).toBeGreaterThan(0);
    expect(report.groupKills).toBeLessThan(report.kills);
    expect(report.faults.map((f) => f.fault)).toEqual(['pg-kill', 'pg-timeout', 'pg-restart', 'sigstop', 'migrate', 'orphans']);
    expect(report.faults.filter((f) => f.skipped)).toEqual([]);
    // The restart and the timeouts reached the workers as outages, each logged when it began,
    // and every one that ended said so at most once.
    expect(report.storeOutages.logged.began).toBeGreaterThan(0);
    expect(report.storeOutages.logged.ended).toBeLessThanOrEqual(report.storeOutages.logged.began);
  }, 300_000);

  it('an outside server named by --db postgres://…: connections cut and statement timeouts; pg-restart and SQLite faults refused (exit 2), and a database that holds tasks', async () => {
    const url = await makePgDatabase();
    const refused = await stressRefusal(['--db', url, '--writers', '1', '--tasks', '1', '--faults', 'pg-restart']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^tasklock-stress: fault pg-restart needs --pg-private/m);
    const sqliteOnly = await stressRefusal(['--db', url, '--writers', '1', '--tasks', '1', '--faults', 'busy']);
    expect(sqliteOnly.code).toBe(2);
    expect(sqliteOnly.stderr).toMatch(/^tasklock-stress: fault busy needs a SQLite database$/m);

    const report = await stress(['--db', url, '--writers', '3', '--tasks', '300', '--kill-every', '600', '--faults', 'pg-kill,pg-timeout', '--seed', '7', '--lease', '1500', '--shell-workers', '1']);
    expectEveryInvariant(report);
    expect(report.faults.filter((f) => f.skipped)).toEqual([]);

    // The checker counts every task in the database as the run's: a second run there is refused.
    const again = await stressRefusal(['--db', url, '--writers', '1', '--tasks', '1']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds tasklock tasks: give the stress run an empty database/);
  }, 300_000);
});
