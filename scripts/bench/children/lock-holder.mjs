// Takes the write lock and keeps it until SIGKILLed or told to "release".
import { WriteLock } from '@tasklock/core/sqlite';
import { config, onCommand, send } from './protocol.mjs';

const lock = WriteLock.open(config.db, { strategy: config.strategy, required: true, staleMs: config.staleMs });
await lock.acquire(10_000);
send('held', { at: Date.now() });
onCommand(async (command) => {
  if (command !== 'release') return;
  const at = Date.now();
  await lock.release();
  send('released', { at });
});
// Stays alive on its stdin (protocol.mjs) until killed or its stdin closes.
