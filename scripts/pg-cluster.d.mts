// Types of scripts/pg-cluster.mjs, for the tests' TypeScript.

export interface PgServer {
  /** A connection string for the server's `postgres` database, as the `postgres` superuser. */
  url: string;
  /** Stops the server at once and removes its directory. */
  stop(): void;
}

export function pgBinDir(): string;

export function startPgServer(options?: { settings?: Record<string, string | number> }): PgServer;
