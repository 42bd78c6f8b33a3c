/** The store suite against SQLite (a fresh file per test), and what only SQLite has: upgrading a version-1 file. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TRACE_COLUMNS, traceToRow } from '../../src/store/trace-columns.js';
import { searchHoursSql } from '../../src/store/trace-query.js';
import { dataset, HOUR, key_, T0 } from './fixtures.js';
import { runStoreSuite } from './store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'llmops-sqlite-suite-'));
let n = 0;
const quiet = createLogger('silent');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreSuite({
  name: 'sqlite',
  newStore: async () => new SqliteStore(join(dir, `s${++n}.db`), { log: quiet }),
  newSiblingStores: async (count) => {
    const path = join(dir, `s${++n}.db`);
    return Array.from({ length: count }, () => new SqliteStore(path, { log: quiet }));
  },
});

describe('sqlite store specifics', () => {
  it('upgrades a file written by version 1 of the schema, keeping its keys and traces', async () => {
    const path = join(dir, `v1-${++n}.db`);
    const traces = dataset(50, 77);
    const v1 = new Database(path);
    const first = sqliteMigrations({ addRollups: () => undefined })[0];
    if (typeof first !== 'string') throw new Error('migration 1 is SQL');
    v1.exec(first);
    v1.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL); INSERT INTO schema_migrations VALUES (1, 0);');
    const insert = v1.prepare(`INSERT INTO traces (${TRACE_COLUMNS.map((c) => c[0]).join(', ')}) VALUES (${TRACE_COLUMNS.map(() => '?').join(', ')})`);
    for (const t of traces) insert.run(traceToRow(t, true));
    const k = key_({ roles: null, limits: null }); // version 1 had no roles or limits column
    v1.prepare('INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      k.id, k.name, k.key_hash, k.key_prefix, JSON.stringify(k.models), JSON.stringify(k.metadata), k.created_at, k.expires_at, k.revoked_at, k.last_used_at,
    );
    v1.close();

    const store = new SqliteStore(path);
    try {
      expect(await store.countTraces()).toBe(50);
      expect(await store.getTrace(traces[3]!.id)).toEqual(traces[3]);
      expect(await store.getKey(k.id)).toEqual(k);
      const alice = traces.filter((t) => t.user_id === 'alice').length;
      expect((await store.searchTraces({ user: 'alice' }, 100)).data).toHaveLength(alice);
      // The rollups were backfilled: a whole-hour query (served by them) counts every call.
      const points = await store.metrics({ from: T0, to: T0 + 60 * HOUR, bucket: 'day', groupBy: 'model' });
      expect(points.reduce((a, p) => a + p.requests, 0)).toBe(50);
      expect(points.every((p) => p.latency_p50_ms !== null)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('serves user, feature and session filters from partial indexes that untagged calls stay out of', async () => {
    const path = join(dir, `plan-${++n}.db`);
    const store = new SqliteStore(path, { log: quiet });
    try {
      await store.insertTraces(dataset(200, 5));
      await store.close();
      const db = new Database(path, { readonly: true });
      const hours = [T0 - (T0 % HOUR)];
      for (const [field, index] of [['user', 'traces_user'], ['feature', 'traces_feature'], ['session', 'traces_session']] as const) {
        const q = searchHoursSql('sqlite', { [field]: 'x' }, hours, 50, null);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.args) as Array<{ detail: string }>).map((r) => r.detail).join('\n');
        expect(plan).toContain(index);
      }
      const column = { traces_user: 'user_id', traces_feature: 'feature', traces_session: 'session_id' } as const;
      for (const [index, col] of Object.entries(column)) {
        const entries = (db.prepare(`SELECT count(*) AS n FROM traces INDEXED BY ${index} WHERE ${col} IS NOT NULL`).get() as { n: number }).n;
        const tagged = (db.prepare(`SELECT count(*) AS n FROM traces WHERE ${col} IS NOT NULL`).get() as { n: number }).n;
        expect(entries).toBe(tagged);
        expect(tagged).toBeLessThan(200); // the fixture leaves some calls untagged
      }
      db.close();
    } finally {
      await store.close().catch(() => undefined);
    }
  });
});
