/**
 * The exact cache's storage contract: a bounded key → entry map with a TTL per entry.
 * One implementation per backend (`memory/`, `redis/`), all run through one shared test
 * suite (`test/cache/backend-suite.ts`).
 */
import type { CacheEntry } from './entry.js';

export interface CacheBackend {
  readonly kind: 'memory' | 'redis';
  /** The live entry under `key`, or undefined (missing or expired). May answer synchronously. */
  get(key: string): CacheEntry | undefined | Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Removes every entry this backend holds (under its prefix). */
  clear(): Promise<void>;
  close(): Promise<void>;
}
