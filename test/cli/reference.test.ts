import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../packages/cli/README.md', import.meta.url), 'utf8');
/** The options each command promises (the reference may list more, e.g. --help). */
const CONTRACT: Record<string, string[]> = {
  '': ['--db', '--lock', '--lock-required', '--file-mode', '--json', '--verbose'],
  init: ['--reset-lock-strategy'],
  enqueue: ['--file', '--queue', '--priority', '--delay', '--run-at', '--max-attempts', '--unique-key', '--timeout'],
  worker: ['--exec', '--handler', '--concurrency', '--types', '--queue', '--lease', '--heartbeat', '--batch', '--max-tasks', '--until-empty', '--until-empty-wait', '--worker-id', '--grace', '--timeout', '--worker-retention', '--log-format'],
  list: ['--status', '--type', '--queue', '--limit', '--order', '--after', '--wide'],
  show: [],
  stats: ['--watch', '--interval'],
  cancel: ['--reason', '--status', '--type', '--queue', '--older-than', '--dry-run'],
  retry: ['--status', '--type', '--queue', '--older-than', '--dry-run'],
  purge: ['--older-than', '--status'],
  reclaim: ['--worker-retention'],
  doctor: [],
  workers: ['--all'],
  backup: ['--force'],
  export: ['--out', '--force', '--status', '--type', '--queue', '--allow-running'],
  import: [],
};

function optionsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)].map((m) => m[0]))].sort();
}

describe('packages/cli/README.md', () => {
  it('carries the command reference generated from --help (node scripts/cli-reference.mjs)', async () => {
    const check = await execa(process.execPath, ['scripts/cli-reference.mjs', '--check'], { reject: false });
    expect(check.exitCode, check.stderr).toBe(0);
  });

  it('documents every command with the options of the contract', () => {
    const reference = readme.slice(readme.indexOf('<!-- cli-reference:start -->'));
    for (const [command, options] of Object.entries(CONTRACT)) {
      const heading = command === '' ? '### tasklock\n' : `### tasklock ${command}\n`;
      expect(reference, command).toContain(heading);
      const section = reference.slice(reference.indexOf(heading)).split('\n### ')[0]!;
      expect(optionsIn(section), command).toEqual(expect.arrayContaining(options));
    }
  });
});
