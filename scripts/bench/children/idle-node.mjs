// Baseline for idle CPU: a bare Node process that only wakes every 250 ms (an idle worker's
// longest poll), with no database, measured beside the idle worker.
import { send } from './protocol.mjs';

setInterval(() => undefined, 250);
send('ready', { pid: process.pid });
