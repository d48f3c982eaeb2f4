// One tasklock worker process: opens the queue, says "ready", starts on "go", and reports its
// counters and write metrics when it ends (untilEmpty) or is told to "stop"; with `listenAll`, how many events it heard.
import { appendFileSync, openSync, writeSync } from 'node:fs';
import { Queue, Worker } from '@tasklock/core';
import { command, config, exit, onCommand, send } from './protocol.mjs';

const queue = await Queue.open(config.db, { sqlite: { lock: config.lock, lockRequired: true, synchronous: config.synchronous } });
send('ready', { pid: process.pid });
await command('go');

// The handler does nothing; for the latency probe it first notes when it started, and beside
// the peers it appends its task id to this process's file, as their handlers do. For the
// recovery section it announces each start, and with `hang` never finishes on its own.
const { startLog, idLog, announce, hang } = config;
const idFd = idLog ? openSync(idLog, 'a') : null;
const handler = announce
  ? (_payload, ctx) => {
      send('task-started', { id: ctx.id, at: Date.now() });
      return hang ? new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))) : null;
    }
  : startLog
  ? (_payload, ctx) => {
      appendFileSync(startLog, `${ctx.id} ${Date.now()}\n`);
      return null;
    }
  : idFd !== null
    ? (_payload, ctx) => {
        writeSync(idFd, `${ctx.id}\n`);
        return null;
      }
    : () => null;
const worker = new Worker(queue, handler, {
  concurrency: config.concurrency,
  batch: config.batch,
  untilEmpty: config.untilEmpty,
  leaseMs: config.leaseMs,
  reclaimEveryMs: config.reclaimEveryMs,
  log: (level, message) => {
    if (level === 'error' || level === 'warn') process.stderr.write(`${level}: ${message}\n`);
    if (message === `worker ${worker.id} started`) send('worker-started');
  },
});
// With `listenAll`, a listener on every event (what it does is trivial: the cost measured is the
// worker's building and telling of the events).
let eventsHeard = 0;
if (config.listenAll) {
  for (const name of ['claimed', 'completed', 'failed', 'retrying', 'released', 'lease-lost', 'progress', 'drained', 'error']) {
    worker.on(name, () => {
      eventsHeard += 1;
    });
  }
}
onCommand((line) => {
  if (line === 'stop') void worker.stop();
});
const startedAt = Date.now();
const stats = await worker.start();
const endedAt = Date.now();
send('result', { stats, metrics: queue.writeMetrics(), startedAt, endedAt, eventsHeard });
queue.close();
exit(0);
