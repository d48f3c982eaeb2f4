/**
 * Vitest global setup: one private PostgreSQL server for the whole test run (test/utils/pg-server.ts),
 * or the server TASKLOCK_TEST_PG names. Test files read its URL with `inject('pgUrl')` and make a
 * database of their own on it, so that no two tests share state.
 */
import type { TestProject } from 'vitest/node';
import { startPgServer } from '../utils/pg-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
  }
}

export default function setup(project: TestProject): (() => void) | undefined {
  const external = process.env.TASKLOCK_TEST_PG;
  if (external) {
    project.provide('pgUrl', external);
    return undefined;
  }
  const server = startPgServer();
  project.provide('pgUrl', server.url);
  return () => server.stop();
}
