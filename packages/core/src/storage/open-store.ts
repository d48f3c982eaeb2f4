/**
 * From a location to a store: the one place above the engines that names them. A location is a
 * file path or a `sqlite:` URL (`sqlite:queue.db`, `sqlite:///var/lib/app/queue.db`) for the
 * embedded SQLite store, or a `postgres:` / `postgresql:` connection string for the PostgreSQL store.
 */
import { BadInputError } from '../errors.js';
import { PostgresStore, type PostgresOptions } from './postgres/postgres-store.js';
import { SqliteStore, type SqliteOptions } from './sqlite/sqlite-store.js';
import type { StoreEngine, TaskStore } from './store.js';

/** Each store's own options, under its engine's name; a store reads only its own. */
export interface StoreOptions {
  /** false: refuse (StoreNotFoundError) to create a store that does not exist yet; default true. */
  create?: boolean;
  sqlite?: SqliteOptions;
  postgres?: PostgresOptions;
}

/** Which engine a location names, and the engine's own address for it. */
export function parseLocation(location: string): { engine: StoreEngine; address: string } {
  if (typeof location !== 'string' || location.trim() === '') throw new BadInputError('store location is empty');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]?.toLowerCase();
  // One letter before the colon is a Windows drive (C:\queue.db), not a scheme.
  if (scheme === undefined || scheme.length === 1) return { engine: 'sqlite', address: location };
  if (scheme === 'sqlite') {
    const rest = location.slice('sqlite:'.length);
    // sqlite:///abs/path → /abs/path (an empty authority); sqlite:relative/path as written.
    const address = rest.startsWith('//') ? rest.slice(2) : rest;
    if (address === '') throw new BadInputError(`${location}: no database path after sqlite:`);
    return { engine: 'sqlite', address };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') return { engine: 'postgres', address: location };
  throw new BadInputError(`${location}: unknown store scheme ${scheme}: (give a file path, a sqlite: URL or a postgres:// connection string)`);
}

export async function openStore(location: string, options: StoreOptions = {}): Promise<TaskStore> {
  const { engine, address } = parseLocation(location);
  if (engine === 'postgres') return PostgresStore.open(address, { ...options.postgres, ...(options.create === undefined ? {} : { create: options.create }) });
  return SqliteStore.open(address, { ...options.sqlite, ...(options.create === undefined ? {} : { create: options.create }) });
}
