import { Argument, type Command } from 'commander';
import { firstLine } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { countersText, eventJson, printJson, printLine, printTable, runJson, taskJson } from '../output.js';
import { taskId } from '../options.js';

export function registerShow(program: Command): void {
  program
    .command('show')
    .description('one task with its progress and counters, its attempts (runs) and its transition log (events)')
    .addArgument(new Argument('<id>', 'task id').argParser(taskId))
    .action(async (id: number, _flags: object, command: Command) => {
      const globals = globalOptions(command);
      const { task, runs, events } = await withQueue(globals, async (queue) => ({
        task: taskJson(await queue.get(id)),
        runs: (await queue.runs(id)).map(runJson),
        events: (await queue.events(id)).map(eventJson),
      }));
      if (globals.json) {
        printJson({ task, runs, events });
        return;
      }
      const fields: [string, unknown][] = [
        ['id', task.id],
        ['type', task.type],
        ['queue', task.queue],
        ['status', task.status],
        ['priority', task.priority],
        // Handed-back attempts are runs but do not use up the budget.
        ['attempts', `${task.attempts - task.releasedAttempts} of ${task.maxAttempts}${task.releasedAttempts > 0 ? ` (+${task.releasedAttempts} released, not counted)` : ''}`],
        ['run at', task.runAt],
        ['created', task.createdAt],
        ['updated', task.updatedAt],
        ['finished', task.finishedAt],
        ['unique key', task.uniqueKey],
        ['timeout', task.timeoutMs === null ? null : `${task.timeoutMs} ms`],
        ['locked by', task.lockedBy],
        ['lease expires', task.leaseExpiresAt],
        ['payload', JSON.stringify(task.payload)],
        ['result', task.result === null ? null : JSON.stringify(task.result)],
        ['progress', task.progress === null ? null : JSON.stringify(task.progress)],
        ['counters', countersText(task.counters)],
        ['last error', task.lastError],
      ];
      for (const [name, value] of fields) {
        if (value !== null && value !== undefined) printLine(field(name, String(value)));
      }
      if (runs.length > 0) {
        printLine('\nruns');
        printTable(
          ['ATTEMPT', 'WORKER', 'STARTED', 'FINISHED', 'OUTCOME', 'HANDLER', 'ERROR'],
          runs.map((run) => [
            run.attempt,
            run.workerId,
            run.startedAt,
            run.finishedAt,
            run.outcome === 'released' ? 'released (not counted)' : run.outcome,
            run.handler === null ? null : `pgid ${run.handler.pgid}@${run.handler.host}`,
            run.error === null ? null : firstLine(run.error),
          ]),
        );
        // An attempt's error whole, unless it is the last error printed above or fits its cell.
        for (const run of runs) {
          if (run.error === null || run.error === task.lastError || !run.error.includes('\n')) continue;
          printLine(`\n${field(`attempt ${run.attempt}`, run.error)}`);
        }
      }
      printLine('\nevents');
      printTable(
        ['AT', 'TRANSITION', 'FROM', 'TO', 'ATTEMPT', 'WORKER', 'DETAIL'],
        events.map((event) => [event.at, event.transition, event.from, event.to, event.attempt, event.workerId, event.detail === null ? null : firstLine(event.detail)]),
      );
    });
}

/** `name` in a 14-column margin; the value's further lines (an error's) indented under its first. */
function field(name: string, value: string): string {
  return `${name.padEnd(13)} ${value.split('\n').join(`\n${' '.repeat(14)}`)}`;
}
