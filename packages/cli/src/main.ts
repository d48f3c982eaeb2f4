#!/usr/bin/env node
/**
 * The tasklock command: parses the command line, runs one command, and maps whatever it
 * threw to an exit code and ONE line on stderr (with --json, one JSON object:
 * `{"error":{"code","message"}}`). Commands are thin; the library does the work.
 * A closed stdout ends a command quietly with exit 0 (see output.ts).
 *
 * Exit codes: 0 success; 2 the input can never succeed as given (usage error, malformed JSON,
 * unknown task, invalid transition); 124 a wait for tasks timed out (as timeout(1)); 1 anything
 * else (locks, I/O, a database that is not ours…, a task waited for failed or was cancelled).
 */
import { Command, CommanderError, Option } from 'commander';
import { createRequire } from 'node:module';
import { errorText, LOCK_STRATEGIES, TasklockError, type TasklockErrorCode } from '@tasklock/core';
import { registerBackup } from './commands/backup.js';
import { registerCancel } from './commands/cancel.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEnqueue } from './commands/enqueue.js';
import { registerEvents } from './commands/events.js';
import { registerExport } from './commands/export.js';
import { registerImport } from './commands/import.js';
import { registerInit } from './commands/init.js';
import { registerList } from './commands/list.js';
import { registerMetrics } from './commands/metrics.js';
import { registerPurge } from './commands/purge.js';
import { registerReclaim } from './commands/reclaim.js';
import { registerRetry } from './commands/retry.js';
import { registerShow } from './commands/show.js';
import { registerStats } from './commands/stats.js';
import { registerWait } from './commands/wait.js';
import { registerWorker } from './commands/worker.js';
import { registerWorkers } from './commands/workers.js';
import { DEFAULT_DB } from './context.js';
import { fileMode, lockStrategy } from './options.js';
import { guardOutputStreams, logLine, OutputClosedError, stdoutWriteFailure } from './output.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

/** TasklockError codes that mean "the caller asked for something impossible", not "it broke". */
const USAGE_CODES: ReadonlySet<TasklockErrorCode> = new Set(['bad-input', 'store-not-found', 'task-not-found', 'invalid-transition']);

/** `wait`, `enqueue --wait`: the tasks had not ended in time (timeout(1)'s code). */
const EXIT_TIMED_OUT = 124;

/** Commander's ways of ending after printing help or the version itself. */
const COMMANDER_DONE = new Set(['commander.helpDisplayed', 'commander.version', 'commander.help']);

export function exitCodeOf(error: unknown): number {
  if (error instanceof OutputClosedError) return error.readerGone ? 0 : 1;
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof TasklockError) return USAGE_CODES.has(error.code) ? 2 : error.code === 'wait-timeout' ? EXIT_TIMED_OUT : 1;
  return 1;
}

export function buildProgram(): Command {
  const program = new Command('tasklock')
    .description('A durable multi-process task queue on one SQLite file.')
    .version(version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--db <location>', `the store: a SQLite file path or sqlite: URL, or a postgres:// connection string (default: $TASKLOCK_DB, else ${DEFAULT_DB})`)
    .addOption(
      new Option('--lock <strategy>', `SQLite write-lock strategy: auto, ${LOCK_STRATEGIES.join(', ')} (flock: old name of os)`)
        .argParser(lockStrategy)
        .default('auto'),
    )
    .option('--lock-required', 'fail instead of falling back to a weaker lock strategy')
    .option(
      '--file-mode <octal>',
      'mode of the database and lock files tasklock creates (default: $TASKLOCK_FILE_MODE, else 0600; 0660 shares them with the group)',
      fileMode,
    )
    .option('--json', 'print one JSON document on stdout (logs go to stderr; errors too, as {"error":{"code","message","taskId","engineCode"}})')
    .option('--verbose', 'print stack traces with errors')
    // Errors are printed once, by main(), as one line; commander must not print or exit itself.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    // `tasklock list --help` lists --db, --json… too: they work after the command as well.
    // Inherited by every command registered below.
    .configureHelp({ showGlobalOptions: true })
    .showSuggestionAfterError(true);
  for (const register of [
    registerInit,
    registerEnqueue,
    registerWait,
    registerWorker,
    registerList,
    registerShow,
    registerEvents,
    registerStats,
    registerMetrics,
    registerCancel,
    registerRetry,
    registerPurge,
    registerReclaim,
    registerDoctor,
    registerBackup,
    registerExport,
    registerImport,
    registerWorkers,
  ]) {
    register(program);
  }
  return program;
}

/** The error's message on one line. */
function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // Commander says "error: unknown option '--x'\n(Did you mean --y?)": keep it to one line.
  return message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * The stable code of an error as --json reports it: a TasklockError's own code, `usage` for
 * what commander refused (unknown option or command, a malformed value), `failed` for the rest
 * (`doctor` finding a problem, an I/O error outside the library).
 */
export function errorCodeOf(error: unknown): string {
  if (error instanceof TasklockError) return error.code;
  if (error instanceof CommanderError) return 'usage';
  return 'failed';
}

function reportError(error: unknown, json: boolean, verbose: boolean): void {
  const detailed = verbose && error instanceof Error && !(error instanceof CommanderError);
  if (json) {
    const body: Record<string, unknown> = { code: errorCodeOf(error), message: messageOf(error) };
    if (error instanceof TasklockError && error.taskId !== undefined) body.taskId = error.taskId;
    // The engine's own code (SQLITE_FULL, ENOSPC…), kept as the error's cause.
    if (error instanceof TasklockError && error.engineCode !== undefined) body.engineCode = error.engineCode;
    if (detailed) body.stack = errorText(error);
    logLine(JSON.stringify({ error: body }));
    return;
  }
  logLine(`tasklock: ${messageOf(error)}`);
  // Class, message, stack and each cause, in the format of a task's stored error.
  if (detailed) logLine(errorText(error));
}

export async function main(argv: readonly string[]): Promise<number> {
  guardOutputStreams();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    // A result write that failed after its call returned (ENOSPC on a slow large write).
    const failed = stdoutWriteFailure();
    if (failed !== null) throw failed;
    return 0;
  } catch (error) {
    if (error instanceof CommanderError && COMMANDER_DONE.has(error.code)) return exitCodeOf(error);
    // stdout closed (`| head`): the reader has what it wanted; nothing to say, nothing failed.
    if (error instanceof OutputClosedError && error.readerGone) return 0;
    // Before parsing succeeded, program.opts() may not know --json or --verbose yet.
    const opts = program.opts<{ json?: boolean; verbose?: boolean }>();
    reportError(error, opts.json ?? argv.includes('--json'), opts.verbose ?? argv.includes('--verbose'));
    return exitCodeOf(error);
  }
}

const code = await main(process.argv);
process.exitCode = code;
// Everything is closed by now; if a stray handle still holds the event loop, do not hang.
setTimeout(() => process.exit(code), 2000).unref();
