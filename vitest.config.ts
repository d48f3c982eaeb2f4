import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Test files run one at a time: many of them fork real worker processes and time lock
// hand-overs, and the machines have two cores.
//
// In-process code under test is the library's source (`@tasklock/core` → packages/core/src),
// so a test sees an edit without a build; what tests start as processes (the `tasklock` binary,
// fixtures, the stress harness) runs the build, which `pnpm test` makes first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@tasklock\/core$/, replacement: fileURLToPath(new URL('./packages/core/src/index.ts', import.meta.url)) },
      { find: /^@tasklock\/core\/sqlite$/, replacement: fileURLToPath(new URL('./packages/core/src/storage/sqlite/index.ts', import.meta.url)) },
      { find: /^@tasklock\/core\/postgres$/, replacement: fileURLToPath(new URL('./packages/core/src/storage/postgres/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // One private PostgreSQL server for the run (or TASKLOCK_TEST_PG): the PostgreSQL store's tests.
    globalSetup: ['test/setup/pg-global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
