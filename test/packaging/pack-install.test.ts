import { execa, type Options } from 'execa';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDirs } from '../utils/temp-dir.js';

/**
 * The packages as users get them: `pnpm pack` core and cli into tarballs, `npm install` those
 * into an empty project (better-sqlite3 compiles from source there: a minute or two), then use
 * the `tasklock` command through npx and import @tasklock/core from TypeScript checked by tsc.
 * Only the npm registry is needed (typescript, @types/node and the packages' own dependencies).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const INSTALL_TIMEOUT_MS = 15 * 60_000;
const coreManifest = JSON.parse(readFileSync(join(ROOT, 'packages/core/package.json'), 'utf8')) as { version: string };

let work: string;
let project: string;
const tarballs: Record<'core' | 'cli', string> = { core: '', cli: '' };

/**
 * The environment for npm and pnpm children: this test may itself run under `pnpm test`, whose
 * npm_config_* variables (its lockfile, store and script settings) must not leak into a plain
 * npm install.
 */
function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_|PNPM_|INIT_CWD$|TASKLOCK_)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Node's own headers for node-gyp when this Node ships them (<prefix>/include/node): otherwise
 * node-gyp would download them from the internet. Users' npm config may say so already.
 */
function nodeDir(): Record<string, string> {
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include/node/node.h')) ? { npm_config_nodedir: prefix } : {};
}

async function run(file: string, args: readonly string[], options: Options = {}) {
  const result = await execa(file, args, { reject: false, all: true, env: cleanEnv(), extendEnv: false, timeout: 120_000, ...options });
  return { code: result.exitCode, stdout: String(result.stdout), all: String(result.all) };
}

async function pack(name: 'core' | 'cli'): Promise<string> {
  const dest = join(work, 'tarballs');
  const result = await run('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', dest], { cwd: join(ROOT, 'packages', name) });
  expect(result.code, result.all).toBe(0);
  const tarball = readdirSync(dest).find((file) => file.startsWith(`tasklock-${name}-`) && file.endsWith('.tgz'));
  expect(tarball, result.all).toBeDefined();
  return join(dest, tarball!);
}

/** `tar tvzf`: path → mode string ("-rwxr-xr-x"). */
async function entries(tarball: string): Promise<Map<string, string>> {
  const { stdout } = await execa('tar', ['tvzf', tarball]);
  return new Map(stdout.split('\n').filter(Boolean).map((line) => {
    const fields = line.trim().split(/\s+/);
    return [fields[fields.length - 1]!, fields[0]!];
  }));
}

async function manifestIn(tarball: string): Promise<Record<string, unknown>> {
  const { stdout } = await execa('tar', ['xzfO', tarball, 'package/package.json']);
  return JSON.parse(stdout) as Record<string, unknown>;
}

/** `npx tasklock …` in the project, as a user types it. */
function tasklock(args: readonly string[], options: Options = {}) {
  return run('npx', ['tasklock', ...args], { cwd: project, ...options });
}

beforeAll(async () => {
  work = makeTempDir('tasklock-pack-');
  tarballs.core = await pack('core');
  tarballs.cli = await pack('cli');
  project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({
    name: 'tasklock-pack-check',
    private: true,
    type: 'module',
    // npm 11 gates dependencies' install scripts on this list (warning now, blocking later).
    allowScripts: { 'better-sqlite3': true },
  }, null, 2)}\n`);
  const started = Date.now();
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarballs.core, tarballs.cli, 'typescript@5.9.3', '@types/node@20.19.25'], {
    cwd: project,
    timeout: INSTALL_TIMEOUT_MS,
    // Straight to the compiler: prebuild-install would first try to download a binary from
    // GitHub, which at best fails and at worst hangs where only the npm registry is reachable.
    env: cleanEnv({ npm_config_build_from_source: 'true', JOBS: 'max', ...nodeDir() }),
  });
  console.log(`npm install of the packed tarballs: ${Math.round((Date.now() - started) / 1000)} s`);
  expect(install.code, install.all).toBe(0);
}, INSTALL_TIMEOUT_MS + 120_000);

afterAll(() => removeTempDirs());

describe('packed and installed with plain npm', () => {
  it('the tarballs carry LICENSE, README, dist and a real version for @tasklock/core; no maps, sources, demo or workspace: ranges', async () => {
    for (const name of ['core', 'cli'] as const) {
      const files = await entries(tarballs[name]);
      const paths = [...files.keys()];
      expect(paths, name).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/package.json']));
      expect(paths.filter((path) => /\.map$|\.ts$/.test(path) && !path.endsWith('.d.ts')), name).toEqual([]);
      expect(paths.filter((path) => !/^package\/(LICENSE|README\.md|package\.json|dist\/.+)$/.test(path)), name).toEqual([]);
      const manifest = await manifestIn(tarballs[name]);
      expect(JSON.stringify(manifest), name).not.toContain('workspace:');
      expect(manifest, name).toMatchObject({
        license: 'MIT',
        repository: { type: 'git', url: 'git+https://github.com/tasklock/tasklock.git', directory: `packages/${name}` },
        engines: { node: '>=20.0.0' },
      });
      expect(manifest.description, name).toEqual(expect.any(String));
      expect(manifest.keywords, name).toEqual(expect.arrayContaining(['tasklock']));
      expect(readFileSync(join(ROOT, `packages/${name}/LICENSE`), 'utf8')).toBe(readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
    }
    const cli = await entries(tarballs.cli);
    expect(cli.get('package/dist/main.js')).toBe('-rwxr-xr-x');
    expect([...cli.keys()].filter((path) => path.includes('/demo/'))).toEqual([]);
    expect((await manifestIn(tarballs.cli)).dependencies).toMatchObject({ '@tasklock/core': coreManifest.version });
    expect([...(await entries(tarballs.core)).keys()]).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts']));
  });

  it('npx tasklock --version; the installed bin is executable and starts with its shebang', async () => {
    const version = await tasklock(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: coreManifest.version });
    const main = join(project, 'node_modules/@tasklock/cli/dist/main.js');
    expect(statSync(main).mode & 0o777).toBe(0o755);
    expect(readFileSync(main, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('npx tasklock init, enqueue, worker --until-empty --exec, show: the task ran', async () => {
    const db = join(project, 'q.db');
    expect((await tasklock(['--db', db, 'init'])).code).toBe(0);
    const enqueued = await tasklock(['--db', db, 'enqueue', 'greet', '{"name":"Ada"}']);
    expect(enqueued).toMatchObject({ code: 0, stdout: '1' });
    const worker = await tasklock(['--db', db, 'worker', '--exec', 'cat', '--until-empty'], { timeout: 60_000 });
    expect(worker.code, worker.all).toBe(0);
    const shown = await tasklock(['--db', db, '--json', 'show', '1']);
    expect(shown.code, shown.all).toBe(0);
    expect(JSON.parse(shown.stdout).task).toMatchObject({ status: 'succeeded', result: { name: 'Ada' } });
  });

  it('a TypeScript program importing @tasklock/core (the package README example) passes tsc --strict and runs', async () => {
    const readme = readFileSync(join(ROOT, 'packages/core/README.md'), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example, 'packages/core/README.md has a ```ts example').toBeDefined();
    writeFileSync(join(project, 'example.ts'), example!);
    writeFileSync(join(project, 'tsconfig.json'), `${JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, types: ['node'], outDir: 'out' },
      files: ['example.ts'],
    }, null, 2)}\n`);
    const checked = await run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json'], { cwd: project });
    expect(checked.code, checked.all).toBe(0);
    const compiled = await run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: project });
    expect(compiled.code, compiled.all).toBe(0);
    const ran = await run(process.execPath, ['out/example.js'], { cwd: project, timeout: 60_000 });
    expect(ran.code, ran.all).toBe(0);
    expect(ran.stdout).toBe('1 enqueued\nsucceeded 1');
    expect(existsSync(join(project, 'jobs.db'))).toBe(true);
  });
});
