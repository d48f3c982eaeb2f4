// Blocks in acquire() on a lock another process holds; prints the time it got it.
import { WriteLock } from '@tasklock/core/sqlite';
import { config, exit, send } from './protocol.mjs';

const lock = WriteLock.open(config.db, { strategy: config.strategy, required: true, staleMs: config.staleMs });
send('waiting', { at: Date.now() });
await lock.acquire(config.timeoutMs);
const at = Date.now();
send('acquired', { at });
await lock.release();
lock.close();
exit(0);
