import { execa } from 'execa';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../packages/cli/dist/duration.js';

/**
 * README "Running workers in production": the supervisor examples must keep the promises the
 * section makes — the stop signal to the worker alone, a stop timeout above --grace, the memory
 * setting — and the systemd unit must pass systemd-analyze where it exists.
 */
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const start = readme.indexOf('\n## Running workers in production\n');
const end = start < 0 ? -1 : readme.indexOf('\n## ', start + 1);
const section = start < 0 ? '' : readme.slice(start + 1, end < 0 ? undefined : end);

function block(language: string): string {
  const match = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section);
  expect(match, `a \`\`\`${language} block in "Running workers in production"`).not.toBeNull();
  return match![1]!;
}

/** `--grace 30s` (or `'--grace', '30s'`) in a command line → ms. */
function graceIn(text: string): number {
  const match = /--grace['",\s]+([0-9][\w.]*)/.exec(text);
  expect(match, `--grace in ${text}`).not.toBeNull();
  return parseDuration(match![1]!);
}

describe('README: running workers in production', () => {
  it('has the section', () => {
    expect(start, 'README.md has "## Running workers in production"').toBeGreaterThan(0);
  });

  it('systemd: SIGTERM to the worker alone (KillMode=mixed), TimeoutStopSec above --grace, restart on failure, the memory setting', () => {
    const unit = block('ini');
    expect(unit).toMatch(/^KillMode=mixed$/m);
    expect(unit).toMatch(/^KillSignal=SIGTERM$/m);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^User=\w+$/m);
    expect(unit).toMatch(/^Environment=NODE_OPTIONS=--max-semi-space-size=1$/m);
    expect(unit).toMatch(/--file-mode 0660/);
    const execStart = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit)![1]!;
    const timeout = parseDuration(/^TimeoutStopSec=(\S+)$/m.exec(unit)![1]!);
    expect(timeout).toBeGreaterThan(graceIn(execStart));
  });

  it.skipIf(!existsSync('/usr/bin/systemd-analyze'))('systemd: the unit passes systemd-analyze verify', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tasklock-unit-'));
    try {
      // Its paths pointed at this checkout's executable bin (systemd checks that it exists).
      const main = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
      const unit = block('ini')
        .replace(/\/opt\/tasklock\/node_modules\/\.bin\/tasklock/g, main)
        .replace(/^WorkingDirectory=.*$/m, `WorkingDirectory=${dir}`);
      writeFileSync(join(dir, 'tasklock-worker@.service'), unit);
      const result = await execa('systemd-analyze', ['verify', join(dir, 'tasklock-worker@1.service')], { reject: false, all: true });
      expect(result.exitCode, result.all).toBe(0);
      expect(String(result.all), 'no warnings').toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Docker: an init, STOPSIGNAL SIGTERM, the build tools for better-sqlite3, a volume, a stop timeout above --grace', () => {
    const dockerfile = block('dockerfile');
    expect(dockerfile).toMatch(/^FROM node:20\S*/m);
    expect(dockerfile).toMatch(/python3 make g\+\+/);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^VOLUME /m);
    expect(dockerfile).toMatch(/NODE_OPTIONS=--max-semi-space-size=1/);
    const stopTimeoutS = Number(/--stop-timeout (\d+)/.exec(section)![1]);
    expect(stopTimeoutS * 1000).toBeGreaterThan(graceIn(/^CMD .*$/m.exec(dockerfile)![0]));
  });

  it('pm2: fork mode, treekill off, kill_timeout above --grace, the bin run directly', () => {
    const module = { exports: {} as { apps?: Record<string, unknown>[] } };
    runInNewContext(block('js'), { module, exports: module.exports });
    const apps = module.exports.apps!;
    expect(apps.length).toBeGreaterThan(1);
    for (const app of apps) {
      expect(app).toMatchObject({ exec_mode: 'fork', treekill: false, interpreter: 'none', script: './node_modules/.bin/tasklock' });
      expect(app.kill_timeout as number).toBeGreaterThan(graceIn((app.args as string[]).join(' ')));
      expect((app.env as Record<string, string>).NODE_OPTIONS).toBe('--max-semi-space-size=1');
    }
    expect(new Set(apps.map((app) => app.name)).size).toBe(apps.length);
  });

  it('doctor as a health check: its exit codes and --json', () => {
    expect(section).toMatch(/### Health checks: `tasklock doctor`/);
    for (const code of ['0', '1', '2']) expect(section).toMatch(new RegExp(`^\\| \`${code}\` \\|`, 'm'));
    expect(section).toContain('tasklock doctor --json');
  });
});
