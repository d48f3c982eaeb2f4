// Before the tests and the bench: both start a private PostgreSQL server from Debian's postgresql
// package (packages/stress/src/pg-server.ts). If its binaries are missing, root installs the package
// (apt-get, as on CI's fresh machines); anyone else is told what to do. TASKLOCK_TEST_PG=postgres://…
// (an existing server) or PG_BIN (another install) skip the check.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/usr/lib/postgresql';

function installed() {
  if (process.env.PG_BIN) return existsSync(join(process.env.PG_BIN, 'initdb'));
  return existsSync(ROOT) && readdirSync(ROOT).some((version) => existsSync(join(ROOT, version, 'bin', 'initdb')));
}

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (result.status !== 0) {
    console.error(`ensure-postgres: ${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

if (process.env.TASKLOCK_TEST_PG || installed()) process.exit(0);
if (process.getuid?.() !== 0) {
  console.error('ensure-postgres: the PostgreSQL server binaries are missing: install Debian\'s postgresql package (sudo apt-get install -y postgresql), set PG_BIN, or set TASKLOCK_TEST_PG=postgres://… to use an existing server');
  process.exit(1);
}
console.error('ensure-postgres: installing Debian\'s postgresql package for the PostgreSQL store\'s tests');
run('apt-get', ['update', '-qq']);
run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql']);
if (!installed()) {
  console.error(`ensure-postgres: postgresql installed, but no initdb under ${ROOT}/<version>/bin`);
  process.exit(1);
}
