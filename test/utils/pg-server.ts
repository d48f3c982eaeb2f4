// The private PostgreSQL server the tests start lives with the stress harness, which starts one
// too (tasklock-stress --pg-private); imported from its source, so the tests need no build for it.
export { pgBinDir, startPgServer, type PgServer } from '../../packages/stress/src/pg-server.js';
