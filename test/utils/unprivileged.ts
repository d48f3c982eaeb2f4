import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How to run a fixture so that directory modes bind it. Root ignores them, so as root the fixture
 * runs as root with every capability dropped (`setpriv --inh-caps=-all --bounding-set=-all`):
 * without CAP_DAC_OVERRIDE a 0555 directory refuses root like anyone else. It stays uid 0 on
 * purpose: the fixture, @tasklock/core and better-sqlite3's native module live in the checkout,
 * and a checkout inside a directory only its owner may enter (a clone under /root, mode 0700)
 * is out of reach of any other uid, such as nobody (65534). Any other user needs no prefix.
 * A probe checks up front that a 0555 directory is really read-only under the prefix; if not,
 * the tests are skipped with the reason.
 */
export function unprivilegedRunner(): { prefix: string[] } | { skip: string } {
  const isRoot = process.getuid?.() === 0;
  if (isRoot && !commandExists('setpriv')) return { skip: "setpriv(1) is not installed (needed to drop root's capabilities)" };
  const prefix = isRoot ? ['setpriv', '--inh-caps=-all', '--bounding-set=-all', '--'] : [];
  const dir = mkdtempSync(join(tmpdir(), 'tasklock-ro-probe-'));
  try {
    chmodSync(dir, 0o555);
    const script = "const fs = require('node:fs'); try { fs.accessSync(process.argv[1], fs.constants.W_OK); console.log('writable'); } catch { console.log('read-only'); }";
    const command = [...prefix, process.execPath, '-e', script, dir];
    const probe = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 20_000 });
    const how = isRoot ? prefix.slice(0, -1).join(' ') : `uid ${process.getuid?.()}`;
    if (probe.status !== 0) {
      return { skip: `node does not run under ${how}: ${probe.error?.message ?? probe.stderr.trim().split('\n')[0]}` };
    }
    if (probe.stdout.trim() !== 'read-only') {
      return {
        skip: isRoot
          ? `${how} did not drop root's capabilities: a 0555 directory stayed writable (CAP_SETPCAP missing?)`
          : `a 0555 directory is writable for ${how}`,
      };
    }
    return { prefix };
  } finally {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  }
}

function commandExists(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
