import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

// The README's main job (`pnpm demo`): real worker processes, one of them SIGKILLed mid-run,
// then its own verification (every task ended as its payload said, none twice, integrity and
// doctor). A smaller run than the default, the same checks.
const DEMO = fileURLToPath(new URL('../../packages/demo/dist/main.js', import.meta.url));

afterEach(() => removeTempDirs());

describe('the demo (the main job)', () => {
  it('drains a mixed workload with a worker killed mid-run and verifies itself: exit 0, OK', async () => {
    const dir = makeTempDir('tasklock-demo-');
    const run = await execa(process.execPath, [DEMO, '--db', join(dir, 'demo.db'), '--tasks', '300'], { cwd: dir, reject: false, timeout: 120_000 });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/^OK: every task ended as its payload said, none twice, and the database is intact$/m);
    expect(run.stdout).toMatch(/doctor: (\d+) of \1 checks ok/);
  }, 150_000);
});
