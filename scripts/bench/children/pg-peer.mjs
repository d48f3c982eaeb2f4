// The child side of a PostgreSQL peer queue (pg-boss, graphile-worker), one mode per process:
//   setup     create the peer's schema in config.url and enqueue config.n noop jobs the peer's
//             fastest documented way; reports their ids
//   worker    open (connect) → "ready" → "go" → start working → "stop" → stop → report. Its
//             handler appends the job id to config.idLog, or with config.announce sends
//             task-started { id, at } for the latency probe. The parent decides when the queue is
//             drained (it asks the database), so a peer's shutdown is not part of its time.
//   enqueuer  "ready"; on each "enqueue", enqueue one job and send enqueued { id, calledAt }
// A peer module gives: setup(n) → ids, open(), start(onJob), stop(), enqueueOne() → id.
import { closeSync, openSync, writeSync } from 'node:fs';
import { command, config, exit, onCommand, send } from './protocol.mjs';

export async function runPeer(peer) {
  switch (config.mode) {
    case 'setup': {
      send('result', { ids: (await peer.setup(config.n)).map(String) });
      break;
    }
    case 'worker': {
      const fd = config.idLog ? openSync(config.idLog, 'a') : null;
      const onJob = config.announce ? (id) => send('task-started', { id: String(id), at: Date.now() }) : (id) => void writeSync(fd, `${id}\n`);
      await peer.open();
      send('ready', { pid: process.pid });
      await command('go');
      const startedAt = Date.now();
      await peer.start(onJob);
      send('worker-started');
      await command('stop');
      const errors = await peer.stop();
      if (fd !== null) closeSync(fd);
      send('result', { startedAt, errorCount: errors.length, errors: errors.slice(0, 5) });
      break;
    }
    case 'enqueuer': {
      await peer.open();
      send('ready');
      onCommand(async (line) => {
        if (line !== 'enqueue') return;
        const calledAt = Date.now();
        const id = await peer.enqueueOne();
        send('enqueued', { id: String(id), calledAt });
      });
      await command('quit');
      await peer.stop();
      send('result', {});
      break;
    }
    default:
      throw new Error(`unknown mode ${config.mode}`);
  }
  exit(0);
}
