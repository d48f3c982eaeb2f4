// The bench's lost/doubled accounting (scripts/bench/ledger.mjs): the ids each worker process
// logged, checked against the ids enqueued. The peers and PostgreSQL tables report its counts.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { accounting, idLogs } from '../../scripts/bench/ledger.mjs';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

afterEach(() => removeTempDirs());

describe('bench ledger', () => {
  it('counts an id never logged as lost, an id logged twice (in one file or two) as doubled, and a stranger as unknown', () => {
    const logs = idLogs(makeTempDir(), 'queue', 3);
    writeFileSync(logs[0]!, '1\n2\n2\n');
    writeFileSync(logs[1]!, '3\n5\n');
    writeFileSync(logs[2]!, '3\n99\n');
    expect(accounting([1, 2, 3, 4, 5], logs)).toEqual({ handled: 7, lost: 1, doubled: 2, unknown: 1 });
  });

  it('reads a missing file (a process that never started) as no ids, and a clean run as nothing lost or doubled', () => {
    const logs = idLogs(makeTempDir(), 'queue', 2);
    writeFileSync(logs[0]!, 'a\nb\n');
    expect(accounting(['a', 'b'], logs)).toEqual({ handled: 2, lost: 0, doubled: 0, unknown: 0 });
    expect(accounting(['a', 'b', 'c'], logs).lost).toBe(1);
  });
});
