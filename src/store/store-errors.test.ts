import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { classifyStoreError, StoreStartError } from './store-errors.js';

const pgError = (code: string): Error => Object.assign(new Error('pg'), { code });

describe('classifyStoreError', () => {
  it('tells an unreachable or busy database from refused values', () => {
    expect(classifyStoreError(pgError('57P01'))).toBe('transient'); // admin shutdown
    expect(classifyStoreError(pgError('08006'))).toBe('transient');
    expect(classifyStoreError(pgError('40P01'))).toBe('transient'); // deadlock
    expect(classifyStoreError(pgError('53300'))).toBe('transient'); // too many connections
    expect(classifyStoreError(pgError('ECONNREFUSED'))).toBe('transient');
    expect(classifyStoreError(new Error('Connection terminated unexpectedly'))).toBe('transient');
    expect(classifyStoreError(pgError('23502'))).toBe('data'); // not null
    expect(classifyStoreError(pgError('22003'))).toBe('data'); // out of range
    expect(classifyStoreError(pgError('54000'))).toBe('data'); // index row too large
    expect(classifyStoreError(pgError('42P01'))).toBe('unknown'); // missing table: never drop rows for it
    expect(classifyStoreError(new TypeError('Do not know how to serialize a BigInt'))).toBe('data');
    expect(classifyStoreError(new Error('something else'))).toBe('unknown');
  });

  it('reads SQLite result codes from real errors', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (a TEXT NOT NULL)');
    const caught = (fn: () => void): unknown => {
      try {
        fn();
      } catch (err) {
        return err;
      }
      throw new Error('no error');
    };
    expect(classifyStoreError(caught(() => db.prepare('INSERT INTO t VALUES (NULL)').run()))).toBe('data');
    expect(classifyStoreError(caught(() => db.prepare('INSERT INTO nope VALUES (1)').run()))).toBe('unknown');
    expect(classifyStoreError(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))).toBe('transient');
    db.close();
  });

  it('names why a store could not start, keeping the cause', () => {
    const cause = pgError('ECONNREFUSED');
    const err = new StoreStartError('unreachable', 'postgres', cause);
    expect(err).toMatchObject({ name: 'StoreStartError', code: 'store_start_failed', reason: 'unreachable', cause });
    expect(err.message).toMatch(/postgres store is unreachable/);
  });
});
