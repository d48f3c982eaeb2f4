/**
 * `worker --exec`: each task runs a shell command in its own process group.
 *   stdin   the payload as JSON
 *   env     TASKLOCK_TASK_ID, TASKLOCK_TASK_TYPE, TASKLOCK_ATTEMPT, TASKLOCK_DB
 *   exit 0  the task succeeds with stdout as its result: parsed JSON if it parses, else the text
 *           (stdout is capped at 1 MiB, the result limit; more fails the attempt)
 *   else    the attempt fails with the last ~4 KB of stderr, its lines kept, as its error
 * On the handler's abort (cancel, lease lost, timeout, shutdown past grace) the whole process
 * group is SIGKILLed: a shell's children die with it, and nothing keeps running for a task
 * this worker no longer owns.
 *
 * Nothing an attempt started outlives its worker, however the worker dies. Each command runs
 * under a small sh supervisor, the leader of the attempt's process group, which holds the read
 * end of a pipe from the worker (fd 3):
 *   1. it waits for "go", which the worker writes only once the group is recorded in the
 *      attempt's run row (a worker that dies before that closes the pipe: the command never
 *      starts, and no unrecorded process can run);
 *   2. a watcher in the group reads the pipe to its end and then SIGKILLs the whole group. The
 *      pipe ends when the worker closes it (the attempt is over: leftovers are killed) or when
 *      the kernel closes it because the worker died — by SIGKILL of its pid alone, the OOM
 *      killer, a crash — so the group dies within milliseconds of its worker.
 * Chosen over the parent-death signal (`setpriv --pdeathsig`), which reaches only the direct
 * child (not the command's own children), races a parent that dies before it is armed, and
 * exists only on Linux; a pipe closes on every POSIX system. A process that leaves the group
 * (setsid, or a shell with job control) escapes both.
 */
import type { Writable } from 'node:stream';
import { TaskFailure, type TaskContext, type TaskHandler } from '@tasklock/core';

type Execa = typeof import('execa').execa;

/**
 * $1 is the user's command. Exit 125 without running it when the worker did not say "go". The
 * watcher is a subshell of the same group; its stdout/stderr go nowhere so that the worker's
 * pipes close when the command's own processes are done.
 */
const SUPERVISOR = `IFS= read -r go <&3 && [ "$go" = go ] || exit 125
(while IFS= read -r _; do :; done; kill -KILL 0) <&3 >/dev/null 2>&1 &
sh -c "$1" 3<&-`;

export const STDOUT_LIMIT_BYTES = 1024 * 1024;
/** Half the stored error's 8 KiB: what a command said last is what usually explains it. */
const STDERR_TAIL_BYTES = 4096;

/** Process group ids of commands running now, for a forced exit. */
const running = new Set<number>();

export async function execHandler(command: string, dbPath: string): Promise<TaskHandler> {
  // Loaded here, not at the top: execa costs ~250 ms of start-up every other command would pay.
  const { execa } = await import('execa');
  return (payload, context) => runCommand(execa, command, payload, context, dbPath);
}

/** SIGKILLs every running command's process group (a worker exiting at once). */
export function killAllCommands(): void {
  for (const pgid of running) killGroup(pgid);
}

function killGroup(pgid: number | undefined): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

async function runCommand(execa: Execa, command: string, payload: unknown, context: TaskContext, dbPath: string): Promise<unknown> {
  context.signal.throwIfAborted();
  const child = execa('/bin/sh', ['-c', SUPERVISOR, 'tasklock-exec', command], {
    // Its own process group (pgid = its pid): we can kill everything it started, and a Ctrl-C
    // aimed at the worker's terminal does not reach it (the worker decides what happens).
    detached: true,
    // fd 3: the lifeline to the supervisor (see the top of this file).
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    input: JSON.stringify(payload ?? null),
    env: {
      TASKLOCK_TASK_ID: String(context.id),
      TASKLOCK_TASK_TYPE: context.task.type,
      TASKLOCK_ATTEMPT: String(context.attempt),
      TASKLOCK_DB: dbPath,
    },
    buffer: false,
    reject: false,
  });
  const pgid = child.pid;
  if (pgid !== undefined) running.add(pgid);
  // A socket pair end: execa types extra fds as outputs, but the worker only writes to it.
  const lifeline = child.stdio[3] as unknown as Writable;
  // EPIPE when the group is gone first: nothing left to tell it.
  lifeline.on('error', () => undefined);
  // The command's own process ended: whatever it left in the group goes too.
  child.on('exit', () => lifeline.end());
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let overflow = false;
  let stderrTail = Buffer.alloc(0);
  let stderrCut = false;
  child.stdout?.on('data', (chunk: Buffer | string) => {
    const bytes = Buffer.from(chunk);
    stdoutBytes += bytes.length;
    if (stdoutBytes <= STDOUT_LIMIT_BYTES) stdout.push(bytes);
    else if (!overflow) {
      overflow = true;
      killGroup(pgid);
    }
  });
  child.stderr?.on('data', (chunk: Buffer | string) => {
    const joined = Buffer.concat([stderrTail, Buffer.from(chunk)]);
    if (joined.length > STDERR_TAIL_BYTES) stderrCut = true;
    stderrTail = joined.subarray(Math.max(0, joined.length - STDERR_TAIL_BYTES));
  });
  const onAbort = (): void => killGroup(pgid);
  context.signal.addEventListener('abort', onAbort, { once: true });
  let result;
  try {
    if (pgid === undefined) throw new TaskFailure(`could not start /bin/sh for the command`);
    try {
      await context.registerProcessGroup(pgid);
    } catch (error) {
      killGroup(pgid);
      throw error;
    }
    lifeline.write('go\n');
    result = await child;
  } finally {
    lifeline.end();
    context.signal.removeEventListener('abort', onAbort);
    if (pgid !== undefined) running.delete(pgid);
  }
  if (context.signal.aborted) throw context.signal.reason;
  if (overflow) throw new TaskFailure(`command wrote more than ${STDOUT_LIMIT_BYTES} bytes to stdout (the result limit)`);
  if (result.exitCode !== 0) {
    const how = result.exitCode === undefined ? (result.signal ? `killed by ${result.signal}` : result.shortMessage) : `exited with code ${result.exitCode}`;
    const tail = stderrText(stderrTail, stderrCut);
    // A TaskFailure is stored as its message alone: the command's words, not this file's stack.
    throw new TaskFailure(tail === '' ? `command ${how}` : `command ${how}: ${tail}`);
  }
  return resultOf(Buffer.concat(stdout).toString('utf8'));
}

/**
 * stderr's last lines as the command wrote them (blank lines and trailing spaces dropped). When
 * the tail starts mid-stream, its first, partial line goes and "…" says lines came before.
 */
function stderrText(tail: Buffer, cut: boolean): string {
  const lines = tail.toString('utf8').split('\n');
  if (cut) lines.shift();
  const kept = lines.map((line) => line.trimEnd()).filter((line) => line.trim().length > 0);
  return cut && kept.length > 0 ? ['…', ...kept].join('\n') : kept.join('\n');
}

function resultOf(stdout: string): unknown {
  if (stdout.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    value = stdout.replace(/\r?\n$/, '');
  }
  // A string grows when JSON-escaped; the stored result must still fit the limit.
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (bytes > STDOUT_LIMIT_BYTES) throw new TaskFailure(`command output is ${bytes} bytes as JSON, over the ${STDOUT_LIMIT_BYTES}-byte result limit`);
  return value;
}
