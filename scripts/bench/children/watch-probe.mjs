// The floor of the wake-up path: fs.watch on <db>-wal (what an idle worker waits on), recording
// when each change arrives. It holds no descriptor on the file and no connection.
import { watch } from 'node:fs';
import { command, config, exit, send } from './protocol.mjs';

const times = [];
const watcher = watch(`${config.db}-wal`, { persistent: false }, () => times.push(Date.now()));
send('ready');
await command('stop');
watcher.close();
send('result', { times });
exit(0);
