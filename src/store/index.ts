/** Opens the store named by `store.url`: `sqlite:PATH` (embedded) or `postgres://…` (shared by several gateways). */
import type { Logger } from '../logger.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore, sqlitePathFromUrl } from './sqlite/sqlite-store.js';
import type { Store } from './types.js';

export interface OpenStoreOptions {
  /** Where a backend reports trouble it recovers from (a lost PostgreSQL connection, traces it refused). */
  log?: Logger;
  /** SQLite page cache of this connection, in MiB (default 64). */
  sqliteCacheMb?: number;
}

/**
 * @example
 * openStore('sqlite:./.llmops/llmops.db');
 * openStore('postgres://llmops:secret@db:5432/llmops?schema=llmops');
 */
export function openStore(url: string, opts: OpenStoreOptions = {}): Store {
  if (url.startsWith('sqlite:')) {
    return new SqliteStore(sqlitePathFromUrl(url), { ...(opts.log ? { log: opts.log } : {}), ...(opts.sqliteCacheMb ? { cacheMb: opts.sqliteCacheMb } : {}) });
  }
  if (/^postgres(ql)?:\/\//.test(url)) return new PostgresStore({ url, ...(opts.log ? { log: opts.log } : {}) });
  throw new Error(`store.url '${url}': unsupported store (use sqlite:PATH or postgres://USER@HOST:PORT/DB)`);
}
