import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue } from '@tasklock/core';
import { CLI_MAIN, cliFixture, initDb, show } from '../utils/cli.js';
import { removeTempDirs } from '../utils/temp-dir.js';

/**
 * Point 1: a reader that goes away (`tasklock list | head -1`) ends the command quietly: exit 0,
 * nothing on stderr — no EPIPE stack trace, no error line. Each case is a real process whose
 * stdout (or stderr) pipe the test closes: before the first write (small outputs would otherwise
 * be written whole before the test could close anything) or after the first chunk (outputs far
 * larger than a pipe's 64 KiB buffer, so the process is still writing when it closes).
 */
let db: string;
const TASKS = 3000;

beforeAll(async () => {
  ({ db } = await initDb());
  const queue = await Queue.open(db);
  try {
    await queue.enqueueMany(Array.from({ length: TASKS }, (_, i) => ({ type: 'job', payload: { i, pad: 'p'.repeat(40) } })));
  } finally {
    queue.close();
  }
});

afterAll(() => removeTempDirs());

interface Closed {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** What the test read from stdout before closing it. */
  stdout: string;
}

interface CloseOptions {
  /** 'start': close stdout at once; 'first-chunk': after the first data arrives. */
  stdout?: 'start' | 'first-chunk' | 'open';
  /** Close stderr at once too (the process cannot report anything then: only its exit code tells). */
  closeStderr?: boolean;
  /** Called once the process runs (e.g. to signal it later). */
  started?: (pid: number) => void;
  env?: Record<string, string>;
}

/** `tasklock <args>` with its stdout pipe closed by the reader; resolves on exit (killed after 30 s). */
function runClosing(args: readonly string[], options: CloseOptions = {}): Promise<Closed> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TASKLOCK_DB: '', ...options.env } });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stdout = '';
  let stderr = '';
  const mode = options.stdout ?? 'start';
  if (mode === 'start') child.stdout.destroy();
  else
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (mode === 'first-chunk') child.stdout.destroy();
    });
  if (options.closeStderr) child.stderr.destroy();
  else child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  options.started?.(child.pid!);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, stdout });
    }),
  );
}

describe('a closed stdout ends a command quietly: exit 0, nothing on stderr', () => {
  it('list and export, with more rows than a pipe holds, closed after the first chunk (text and --json)', async () => {
    for (const args of [['list', '--limit', String(TASKS)], ['--json', 'list', '--limit', String(TASKS)], ['export']]) {
      const result = await runClosing(['--db', db, ...args], { stdout: 'first-chunk' });
      expect(result, args.join(' ')).toMatchObject({ code: 0, signal: null, stderr: '' });
      expect(result.stdout.length).toBeGreaterThan(0);
    }
  });

  it('stats, doctor, show, workers, init and --help, closed before their first write', async () => {
    for (const args of [['stats'], ['doctor'], ['--json', 'doctor'], ['show', '1'], ['workers', '--all'], ['init'], ['--help'], ['list', '--help']]) {
      const result = await runClosing(['--db', db, ...args]);
      expect(result, args.join(' ')).toMatchObject({ code: 0, signal: null, stderr: '' });
    }
  });

  it('an error still exits with its code when stderr is closed too (no crash on the error line)', async () => {
    const result = await runClosing(['--db', db, 'show', '999999'], { closeStderr: true });
    expect(result).toMatchObject({ code: 2, signal: null });
  });
});

describe('a write that fails for another reason is still an error', () => {
  it.skipIf(!existsSync('/dev/full'))('list or export > /dev/full (ENOSPC): exit 1, one line saying so, for text and --json', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      for (const [command, json] of [['list', false], ['list', true], ['export', false], ['export', true]] as const) {
        const child = spawn(process.execPath, [CLI_MAIN, '--db', db, ...(json ? ['--json'] : []), command], { stdio: ['ignore', full, 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(code, stderr).toBe(1);
        if (json) expect(JSON.parse(stderr)).toEqual({ error: { code: 'failed', message: 'cannot write to stdout: ENOSPC: no space left on device, write' } });
        else expect(stderr).toBe('tasklock: cannot write to stdout: ENOSPC: no space left on device, write\n');
      }
    } finally {
      closeSync(full);
    }
  });
});

/** A fresh database holding `count` echo tasks. */
async function dbWithEchoTasks(count: number): Promise<string> {
  const { db } = await initDb();
  const queue = await Queue.open(db);
  try {
    await queue.enqueueMany(Array.from({ length: count }, (_, i) => ({ type: 'echo', payload: i })));
  } finally {
    queue.close();
  }
  return db;
}

describe('a worker whose stdout or stderr closes', () => {
  it('keeps working with stdout closed from the start, then exits 0 quietly at its summary', async () => {
    const workerDb = await dbWithEchoTasks(5);
    const result = await runClosing(['--db', workerDb, '--json', 'worker', '--handler', cliFixture('chatty-handler.mjs'), '--until-empty']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/EPIPE|Error|tasklock:/);
    for (let id = 1; id <= 5; id += 1) expect((await show(workerDb, id)).task.status).toBe('succeeded');
  });

  it('keeps working with its JSON log (pino) closed from the start: every task done, exit 0', async () => {
    const workerDb = await dbWithEchoTasks(5);
    const result = await runClosing(['--db', workerDb, 'worker', '--handler', cliFixture('chatty-handler.mjs'), '--until-empty', '--log-format', 'json'], {
      stdout: 'open',
      closeStderr: true,
    });
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.stdout).toMatch(/^worker \S+: 5 claimed, 5 succeeded/);
    for (let id = 1; id <= 5; id += 1) expect((await show(workerDb, id)).task.status).toBe('succeeded');
  });

  it('with stdout and stderr closed, SIGTERM still stops it gracefully: the running task is handed back, exit 0', async () => {
    const { db: workerDb } = await initDb();
    const queue = await Queue.open(workerDb);
    try {
      await queue.enqueue('slow', null);
    } finally {
      queue.close();
    }
    let pid = 0;
    const exited = runClosing(['--db', workerDb, 'worker', '--handler', cliFixture('sleep-handler.mjs'), '--grace', '200ms'], {
      closeStderr: true,
      started: (started) => (pid = started),
      // Far longer than the test: the task is still running when the signal comes.
      env: { SLEEP_MS: '60000' },
    });
    await vi.waitFor(async () => expect((await show(workerDb, 1)).task.status).toBe('running'), { timeout: 15_000, interval: 100 });
    process.kill(pid, 'SIGTERM');
    const result = await exited;
    expect(result).toMatchObject({ code: 0, signal: null });
    const shown = await show(workerDb, 1);
    expect(shown.task.status).toBe('pending');
    expect(shown.runs.map((run) => run.outcome)).toEqual(['released']);
  });
});
