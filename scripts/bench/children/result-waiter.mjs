// The producer of the results section: enqueues one noop task at a time into an idle worker in
// another process and waits for its result with queue.waitFor; reports each enqueue() call →
// waitFor resolved, on this process's clock, in ms.
import { Queue } from '@tasklock/core';
import { command, config, exit, send } from './protocol.mjs';

const queue = await Queue.open(config.db, config.synchronous ? { sqlite: { synchronous: config.synchronous } } : {});
send('ready', { pid: process.pid });
await command('go');
const samples = [];
for (let i = 0; i < config.tasks; i += 1) {
  // Paced so that the worker is idle (listening) when each task comes, as a producer's would be.
  await new Promise((resolve) => setTimeout(resolve, config.pacingMs[0] + Math.random() * (config.pacingMs[1] - config.pacingMs[0])));
  const calledAt = performance.now();
  const { id } = await queue.enqueue('noop', null);
  const task = await queue.waitFor(id, { timeoutMs: 30_000 });
  if (task.status !== 'succeeded') throw new Error(`task ${id} ended ${task.status}: ${task.lastError}`);
  samples.push(performance.now() - calledAt);
}
send('result', { samples });
queue.close();
exit(0);
