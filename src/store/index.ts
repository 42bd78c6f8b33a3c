/** Opens the store named by `store.url`. */
import type { Store } from './types.js';
import { SqliteStore, sqlitePathFromUrl } from './sqlite/sqlite-store.js';

export function openStore(url: string): Store {
  if (url.startsWith('sqlite:')) return new SqliteStore(sqlitePathFromUrl(url));
  throw new Error(`store.url '${url}': unsupported store (this version supports sqlite:PATH)`);
}
