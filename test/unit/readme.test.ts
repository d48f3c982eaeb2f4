import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { transitionTableMarkdown } from '@tasklock/core';

const readme = new URL('../../README.md', import.meta.url);

describe('README', () => {
  it('carries the state-machine table generated from task-state.ts', async () => {
    expect(readFileSync(readme, 'utf8')).toContain(transitionTableMarkdown());
    const check = await execa('node', ['scripts/readme-sync.mjs', '--check'], { reject: false });
    expect(check.exitCode, check.stderr).toBe(0);
  });

  it('names the two set-up commands, and .ci/run runs exactly the test one', () => {
    const text = readFileSync(readme, 'utf8');
    const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
    const testCommand = 'npx -y pnpm@10 install --frozen-lockfile && npx -y pnpm@10 test';
    expect(text).toContain(testCommand);
    expect(text).toContain('npx -y pnpm@10 install --frozen-lockfile && npx -y pnpm@10 demo');
    expect(ci).toContain(testCommand);
  });
});
