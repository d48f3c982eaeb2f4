import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, initDb } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

/** Point 9 (parts): a handler module that fails to load says where; subcommand help shows the global options. */
afterEach(() => removeTempDirs());

async function loadError(files: Record<string, string>, main: string): Promise<{ dir: string; line: string }> {
  const { dir, db } = await initDb();
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, 'h', name)), { recursive: true });
    writeFileSync(join(dir, 'h', name), text);
  }
  const run = await cli(['--db', db, 'worker', '--handler', join(dir, 'h', main), '--until-empty']);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^tasklock: [^\n]+\n$/);
  return { dir: join(dir, 'h'), line: run.stderr.trimEnd() };
}

describe('a --handler module that fails to load: file:line:column and the cause, in one line', () => {
  it('a syntax error (which Node does not locate in the error it throws)', async () => {
    const { dir, line } = await loadError({ 'h.mjs': 'export default async function (p) {\n  const x = ;\n  return x;\n}\n' }, 'h.mjs');
    expect(line).toBe(`tasklock: cannot load handler module ${dir}/h.mjs: ${dir}/h.mjs:2:13: SyntaxError: Unexpected token ';'`);
  });

  it('a syntax error in a module the handler imports: that module is named', async () => {
    const { dir, line } = await loadError(
      { 'h.mjs': 'import { helper } from "./lib/helper.mjs";\nexport default helper;\n', 'lib/helper.mjs': '\n\nexport function helper() {\n  return {;\n}\n' },
      'h.mjs',
    );
    expect(line).toMatch(new RegExp(`^tasklock: cannot load handler module ${dir}/h\\.mjs: ${dir}/lib/helper\\.mjs:4:11: SyntaxError: `));
  });

  it('an error thrown while the module runs', async () => {
    const { dir, line } = await loadError({ 'h.mjs': '// set-up\nconst config = {};\nif (!config.url) throw new Error("config.url is not set");\nexport default async () => null;\n' }, 'h.mjs');
    expect(line).toBe(`tasklock: cannot load handler module ${dir}/h.mjs: ${dir}/h.mjs:3:24: Error: config.url is not set`);
  });

  it('an import of an export that does not exist', async () => {
    const { dir, line } = await loadError({ 'h.mjs': 'import { nope } from "./lib.mjs";\nexport default async () => nope;\n', 'lib.mjs': 'export const yes = 1;\n' }, 'h.mjs');
    expect(line).toBe(
      `tasklock: cannot load handler module ${dir}/h.mjs: ${dir}/h.mjs:1:10: SyntaxError: The requested module './lib.mjs' does not provide an export named 'nope'`,
    );
  });

  it('no default export: says what is expected', async () => {
    const { dir, line } = await loadError({ 'h.mjs': 'export const handler = async () => null;\n' }, 'h.mjs');
    expect(line).toBe(`tasklock: handler module ${dir}/h.mjs has no default export function (export default async (payload, ctx) => result)`);
  });
});

describe('subcommand help shows the global options', () => {
  it('every command: --db, --lock, --lock-required, --file-mode, --json, --verbose under "Global Options:"', async () => {
    const root = await cli(['--help']);
    const commands = [...root.stdout.slice(root.stdout.indexOf('\nCommands:\n')).matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['list', 'worker', 'enqueue', 'show']));
    for (const command of commands) {
      const help = await cli([command, '--help']);
      expect(help.code).toBe(0);
      const global = help.stdout.slice(help.stdout.indexOf('\nGlobal Options:\n'));
      expect(global.length, command).toBeGreaterThan(20);
      for (const option of ['--db <location>', '--lock <strategy>', '--lock-required', '--file-mode <octal>', '--json', '--verbose']) expect(global, `${command}: ${option}`).toContain(option);
    }
  });
});
