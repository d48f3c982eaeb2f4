import type { Command } from 'commander';
import type { StreamEvent, TransitionName } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { iso, printStreamed } from '../output.js';
import { nameList } from '../options.js';

interface EventsFlags {
  follow?: boolean;
  after?: string;
  type?: string[];
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description(
      "every task's events in commit order, across processes: what the log holds (then exit 0), or with --follow what comes too, until SIGINT/SIGTERM (exit 0). Each event's id is a cursor: --after <id> goes on exactly after it",
    )
    .option('--follow', 'keep printing events as they are committed (tail -f)')
    .option('--after <id>', 'start after this event id (one this command printed), e.g. after a restart')
    .option('--type <transitions>', 'only these kinds, comma-separated: enqueue, claim, complete, fail, reclaim, release, cancel, retry', nameList)
    .addHelpText('after', '\nText: "<id> <time> task <id> <transition> <from>→<to> attempt <n> [worker] [detail]" per line; --json: one JSON object per line (NDJSON).')
    .action(async (flags: EventsFlags, command: Command) => {
      const globals = globalOptions(command);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await withQueue(globals, async (queue) => {
          const stream = queue.events({
            follow: flags.follow ?? false,
            signal: stop.signal,
            ...(flags.after === undefined ? {} : { after: flags.after }),
            ...(flags.type === undefined ? {} : { types: flags.type as TransitionName[] }),
          });
          for await (const event of stream) await printStreamed(`${globals.json ? JSON.stringify(eventLine(event)) : eventText(event)}\n`);
        });
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

function eventLine(event: StreamEvent) {
  return { ...event, at: iso(event.at) };
}

function eventText(event: StreamEvent): string {
  const who = event.workerId === null ? [] : [event.workerId];
  const detail = event.detail === null ? [] : [JSON.stringify(event.detail)];
  return [event.id, iso(event.at), 'task', event.taskId, event.transition, `${event.from ?? '-'}→${event.to}`, 'attempt', event.attempt, ...who, ...detail].join(' ');
}
