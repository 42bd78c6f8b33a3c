/**
 * Loads a CommonJS package the first time it is used instead of when the gateway starts:
 * for drivers and data a deployment may never need (PostgreSQL, Redis, phone metadata),
 * which otherwise cost every process, and the trace writer thread, megabytes of heap.
 *
 * @example
 * const pg = lazyRequire<typeof import('pg')>('pg');
 * new (pg().Pool)({ connectionString });
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyRequire<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(id) as T);
}
