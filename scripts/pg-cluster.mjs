// A private PostgreSQL server, started by the tests (test/utils/pg-server.ts) and the bench
// (scripts/bench/sections/postgres.mjs) themselves: `initdb` and `pg_ctl` of Debian's postgresql
// package in a temporary directory, listening on a unix socket in that directory and on no TCP
// port. `initdb` refuses root, so as root (CI) the binaries run as the `postgres` user through
// setpriv(1). A cluster of its own starts in about a second. The caller chooses the server
// settings: the tests turn durability off, the bench keeps it.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** The directory of initdb/pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/<n>/bin, else pg_config's. */
export function pgBinDir() {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  const probe = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (probe.status === 0) return probe.stdout.trim();
  throw new Error('PostgreSQL server binaries not found: install Debian\'s postgresql package (.ci/run does), set PG_BIN, or point TASKLOCK_TEST_PG at a server');
}

/**
 * Starts the server with these settings (`postgres -c name=value` each) and returns the URL of
 * its `postgres` database, as the `postgres` superuser, and stop(), which also removes the dir.
 * @param {{ settings?: Record<string, string | number> }} [options]
 * @returns {{ url: string, stop(): void }}
 */
export function startPgServer({ settings = {} } = {}) {
  const bin = pgBinDir();
  const isRoot = process.getuid?.() === 0;
  const asServerUser = isRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] : [];
  /** @param {string} command @param {string[]} args */
  const run = (command, args) => {
    const argv = [...asServerUser, join(bin, command), ...args];
    execFileSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  const dir = mkdtempSync(join(tmpdir(), 'tasklock-pg-'));
  if (isRoot) chownSync(dir, idOf('-u', 'postgres'), idOf('-g', 'postgres'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const user = isRoot ? 'postgres' : userInfo().username;
  try {
    // --no-sync: the cluster is thrown away with its directory; the server's own settings decide its durability.
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const options = [`-c listen_addresses=''`, `-k ${dir}`, ...Object.entries(settings).map(([name, value]) => `-c ${name}=${value}`)];
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', options.join(' '), 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = /** @type {{ stderr?: Buffer }} */ (error).stderr?.toString().trim();
    throw new Error(`could not start a private PostgreSQL in ${dir} (as ${user}): ${stderr || /** @type {Error} */ (error).message}`);
  }
  return {
    url: `postgres://postgres@${encodeURIComponent(dir)}/postgres`,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** @param {'-u' | '-g'} flag @param {string} name */
function idOf(flag, name) {
  return Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
}
