import { defineConfig } from 'vitest/config';

// Test files run one at a time: many of them fork real worker processes and time lock
// hand-overs, and the machines have two cores.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
