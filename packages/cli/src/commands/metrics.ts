import type { Command } from 'commander';
import { buildMetricsRegistry } from '@tasklock/core';
import { globalOptions, withQueue } from '../context.js';
import { printJson, printText } from '../output.js';

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description(
      'a snapshot of the store in the Prometheus text format: tasks by queue/type/status, transitions, reclaimed leases, workers\' last heartbeat, this process\'s write path (--json: prom-client\'s JSON form)',
    )
    .action(async (_flags: Record<string, never>, command: Command) => {
      const globals = globalOptions(command);
      // Read whole before printing: the text is one scrape, every metric from the same moment's reads.
      const exposition = await withQueue(globals, async (queue) => {
        const registry = await buildMetricsRegistry(queue);
        return globals.json ? registry.getMetricsAsJSON() : registry.metrics();
      });
      if (typeof exposition === 'string') printText(exposition);
      else printJson({ metrics: exposition });
    });
}
