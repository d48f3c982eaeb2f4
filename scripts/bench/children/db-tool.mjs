// Database chores done in their own process, so the bench parent never holds a connection:
//   prepare  create the database with this lock strategy and enqueue n noop tasks
//   verify   count tasks by status
//   feeder   keep at least `low` pending tasks until "stop" (memory section)
//   enqueuer on each "enqueue", enqueue one task (enqueued { id, calledAt }) and, unless
//            config.waitForSuccess is false, poll until it succeeded (finished { … }): the
//            latency probes
import { Queue } from '@tasklock/core';
import { command, config, exit, onCommand, send } from './protocol.mjs';

const queue = await Queue.open(config.db, { sqlite: { lock: config.lock, lockRequired: true, synchronous: config.synchronous } });
const noop = (count) => Array.from({ length: count }, () => ({ type: 'noop', payload: null }));

switch (config.mode) {
  case 'prepare': {
    const ids = [];
    for (let left = config.n; left > 0; left -= config.chunk) {
      const tasks = await queue.enqueueMany(noop(Math.min(config.chunk, left)));
      if (config.returnIds) for (const task of tasks) ids.push(task.id);
    }
    send('result', { enqueued: config.n, ids });
    break;
  }
  case 'verify': {
    send('result', { counts: (await queue.stats()).counts, transactions: queue.writeMetrics().transactions });
    break;
  }
  case 'feeder': {
    let stopping = false;
    let enqueued = 0;
    onCommand((line) => (stopping ||= line === 'stop'));
    send('ready');
    await command('go');
    while (!stopping) {
      if ((await queue.liveCount('default', null)) < config.low) {
        await queue.enqueueMany(noop(config.batch));
        enqueued += config.batch;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    send('result', { enqueued, counts: (await queue.stats()).counts });
    break;
  }
  case 'enqueuer': {
    send('ready');
    onCommand(async (line) => {
      if (line !== 'enqueue') return;
      const calledAt = Date.now();
      const task = await queue.enqueue('noop', null);
      const committedAt = Date.now();
      send('enqueued', { id: String(task.id), calledAt });
      if (config.waitForSuccess === false) return;
      while ((await queue.get(task.id)).status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 1));
      send('finished', { id: task.id, calledAt, committedAt, finishedAt: Date.now() });
    });
    await command('quit');
    send('result', {});
    break;
  }
  default:
    throw new Error(`db-tool: unknown mode ${config.mode}`);
}
queue.close();
exit(0);
