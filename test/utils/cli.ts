import { execa, type ResultPromise } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '@tasklock/core';
import { makeTempDir } from './temp-dir.js';

/** The built binary: these tests exercise what users run (`pnpm run build` first). */
export const CLI_MAIN = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));

export function cliFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/cli/${name}`, import.meta.url));
}

export interface CliResult {
  code: number | undefined;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

function assertBuilt(): void {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npx -y pnpm@10 run build\` first`);
}

/** `tasklock <args>` as a real process, to completion (never rejects; a hang is killed after 30 s). */
export async function cli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  assertBuilt();
  const result = await execa(process.execPath, [CLI_MAIN, ...args], {
    reject: false,
    input: options.input ?? '',
    env: { TASKLOCK_DB: undefined, ...options.env },
    cwd: options.cwd,
    stripFinalNewline: false,
    timeout: 30_000,
    killSignal: 'SIGKILL',
  });
  return { code: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** Runs a command that must succeed and parses its --json output. */
export async function cliJson<T = Record<string, unknown>>(db: string, args: readonly string[], options?: CliOptions): Promise<T> {
  const result = await cli(['--db', db, '--json', ...args], options);
  if (result.code !== 0) throw new Error(`tasklock ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** A fresh temp directory with an initialised database in it. */
export async function initDb(): Promise<{ dir: string; db: string }> {
  const dir = makeTempDir('tasklock-cli-');
  const db = join(dir, 'q.db');
  const result = await cli(['--db', db, 'init']);
  if (result.code !== 0) throw new Error(`init failed: ${result.stderr}`);
  return { dir, db };
}

export async function enqueue(db: string, type: string, payload: unknown = null, extra: readonly string[] = []): Promise<number> {
  const { ids } = await cliJson<{ ids: number[] }>(db, ['enqueue', type, JSON.stringify(payload), ...extra]);
  return ids[0]!;
}

export interface ShownTask {
  task: { id: number; status: string; attempts: number; result: unknown; lastError: string | null; [key: string]: unknown };
  runs: { attempt: number; outcome: string; error: string | null; workerId: string }[];
  events: { transition: string; from: string | null; to: string; workerId: string | null; detail: string | null }[];
}

export function show(db: string, id: number): Promise<ShownTask> {
  return cliJson<ShownTask>(db, ['show', String(id)]);
}

const running = new Set<ResultPromise>();

export interface WorkerProcess {
  pid: number;
  child: ResultPromise;
  /** What it has written to stderr (its log) so far. */
  log(): string;
  exited: Promise<CliResult & { signal: string | undefined }>;
}

/** `tasklock --db <db> worker <args>` left running; `killAllWorkers()` in afterEach. */
export function startWorker(db: string, args: readonly string[], options: CliOptions = {}): WorkerProcess {
  assertBuilt();
  const child = execa(process.execPath, [CLI_MAIN, '--db', db, 'worker', ...args], {
    reject: false,
    stdin: 'ignore',
    env: { TASKLOCK_DB: undefined, ...options.env },
    cwd: options.cwd,
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  running.add(child);
  let log = '';
  child.stderr!.on('data', (chunk: Buffer | string) => {
    log += String(chunk);
  });
  const exited = child.then((result) => {
    running.delete(child);
    return { code: result.exitCode, signal: result.signal, stdout: String(result.stdout), stderr: String(result.stderr) };
  });
  return { pid: child.pid!, child, log: () => log, exited };
}

export async function killAllWorkers(): Promise<void> {
  const children = [...running];
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.catch(() => undefined)));
}

/**
 * Gone, or a zombie: PID 1 of a container may never reap orphans, so `kill(pid, 0)` alone would
 * report a SIGKILLed, orphaned command as alive. (isProcessAlive reads /proc/<pid>/stat.)
 */
export function isGone(pid: number): boolean {
  return !isProcessAlive({ pid, start: '' });
}
