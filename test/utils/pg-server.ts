// The private PostgreSQL server the tests start lives with the stress harness, which starts one
// too (tasklock-stress --pg-private), and the bench uses it from the build; imported here from
// its source, so the tests need no build for it. The tests run it with durability off (its
// default settings).
export { pgBinDir, startPgServer, THROWAWAY_SETTINGS, type PgServer } from '../../packages/stress/src/pg-server.js';
