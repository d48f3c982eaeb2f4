/**
 * A private PostgreSQL server, the one starter for the tests (test/utils/pg-server.ts re-exports
 * this), `tasklock-stress --pg-private` and the bench (scripts/bench/pg.mjs, from the build):
 * `initdb` and `pg_ctl` of Debian's postgresql package in a temporary directory, listening on a
 * unix socket in that directory and on no TCP port. `initdb` refuses root, so as root (CI) the
 * binaries run as the `postgres` user through setpriv(1). A cluster of its own starts in about a
 * second. The caller chooses its settings: by default durability is off (fsync=off: the data of
 * a test or stress server is thrown away, and a clean `restart -m fast` does not need it); the
 * bench keeps it on.
 *
 * TASKLOCK_TEST_PG=postgres://… points the tests at an existing server instead.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  /** A connection string for the server's `postgres` database, as the `postgres` superuser. */
  url: string;
  /**
   * `pg_ctl restart -m fast`: every connection is cut, and the server is back when this resolves.
   * Asynchronous, so that the test's own workers meet the outage as it happens.
   */
  restart(): Promise<void>;
  stop(): void;
}

/** The directory of initdb/pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/<n>/bin, else pg_config's. */
export function pgBinDir(): string {
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

/** Durability off and connections for a test run's parallel files: what tests and stress runs use. */
export const THROWAWAY_SETTINGS: Readonly<Record<string, string | number>> = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 200 };

/** Starts the server with these settings (`postgres -c name=value` each). */
export function startPgServer(options: { settings?: Readonly<Record<string, string | number>> } = {}): PgServer {
  const chosen = options.settings ?? THROWAWAY_SETTINGS;
  const bin = pgBinDir();
  const isRoot = process.getuid?.() === 0;
  const asServerUser = isRoot ? ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] : [];
  const argv = (command: string, args: string[]): string[] => [...asServerUser, join(bin, command), ...args];
  const run = (command: string, args: string[]) => {
    const [file, ...rest] = argv(command, args);
    execFileSync(file!, rest, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  };
  const dir = mkdtempSync(join(tmpdir(), 'tasklock-pg-'));
  if (isRoot) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const user = isRoot ? 'postgres' : userInfo().username;
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    const settings = [`-c listen_addresses=''`, `-k ${dir}`, ...Object.entries(chosen).map(([name, value]) => `-c ${name}=${value}`)];
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30', '-o', settings.join(' '), 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start a private PostgreSQL in ${dir} (as ${user}): ${(error as { stderr?: Buffer }).stderr?.toString().trim() || (error as Error).message}`);
  }
  return {
    url: `postgres://postgres@${encodeURIComponent(dir)}/postgres`,
    async restart() {
      // pg_ctl restart reuses the options the server was started with (postmaster.opts).
      const [file, ...rest] = argv('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-m', 'fast', '-w', '-t', '30', 'restart']);
      await promisify(execFile)(file!, rest, { timeout: 60_000 });
    },
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function uidOf(name: string): number {
  return Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
}

function gidOf(name: string): number {
  return Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
}
