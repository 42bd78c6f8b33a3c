/** The store suite against real PostgreSQL (LLMOPS_TEST_POSTGRES_URL): a fresh schema per test, in a database made for this file. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { parsePostgresUrl, PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, POSTGRES_URL_MISSING, testPostgresUrl, withDatabase } from './postgres-harness.js';
import { runStoreSuite } from './store-suite.js';
import { createLogger } from '../../src/logger.js';
import pg from 'pg';
import { fullTrace, T0 } from './fixtures.js';
import { startRelay } from '../helpers/tcp-relay.js';

const url = testPostgresUrl();

if (!url) {
  describe('postgres store', () => {
    it('needs LLMOPS_TEST_POSTGRES_URL', () => {
      expect.fail(POSTGRES_URL_MISSING);
    });
  });
} else {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let n = 0;
  beforeAll(async () => {
    db = await createTestDatabase(url);
  });
  afterAll(async () => {
    await db?.drop();
  });
  const quiet = createLogger('silent');
  const inSchema = (schema: string): PostgresStore => new PostgresStore({ url: withDatabase(url, db!.name, schema), log: quiet });

  runStoreSuite({
    name: 'postgres',
    newStore: async () => {
      const s = inSchema(`s${++n}`);
      await s.migrate();
      return s;
    },
    newSiblingStores: async (count) => {
      const schema = `s${++n}`;
      return Array.from({ length: count }, () => inSchema(schema));
    },
  });

  describe('postgres store specifics', () => {
    it('is what openStore returns for postgres:// and postgresql:// URLs, and migrates on first use', async () => {
      const s1 = openStore(withDatabase(url, db!.name, `s${++n}`), { log: quiet });
      const s2 = openStore(withDatabase(url, db!.name, `s${n}`).replace(/^postgres:/, 'postgresql:'), { log: quiet });
      try {
        expect(s1.kind).toBe('postgres');
        await s1.ping();
        expect(await s1.countTraces()).toBe(0); // no explicit migrate(): tables made on first use
        expect(await s2.countTraces()).toBe(0);
      } finally {
        await s1.close();
        await s2.close();
        await s1.close(); // twice is harmless
      }
    });

    it('splits the schema off the URL and refuses unsafe schema names', () => {
      expect(parsePostgresUrl('postgres://u:p@h:5432/db?schema=llmops&sslmode=disable')).toEqual({
        connectionString: 'postgres://u:p@h:5432/db?sslmode=disable',
        schema: 'llmops',
      });
      expect(() => new PostgresStore({ url: 'postgres://h/db?schema=a;drop' })).toThrow(/schema/);
    });

    it('refuses a value too large for its column alone, and stores the rest of the batch', async () => {
      const s = inSchema(`s${++n}`);
      try {
        const r = await s.writeTraces([fullTrace({ id: 'a' }), fullTrace({ id: 'big', http_status: 2 ** 40 }), fullTrace({ id: 'b', input_payload: '{not json' })]);
        expect(r.rejected.map((x) => [x.id, x.code])).toEqual([
          ['big', '22003'], // integer out of range
          ['b', '22P02'], // invalid JSON
        ]);
        expect(await s.countTraces()).toBe(1);
      } finally {
        await s.close();
      }
    });

    // Bug: feedback committed while its call's batch was in its transaction (after the batch
    // looked for feedback) was never linked: each side looked before the other committed.
    it('links feedback written while the batch holding its call is still in its transaction', async () => {
      const schema = `s${++n}`;
      const s = inSchema(schema);
      await s.migrate();
      const raw = new pg.Client({ connectionString: withDatabase(url, db!.name), options: `-c search_path=${schema}` });
      await raw.connect();
      try {
        const base = { value_string: null, comment: null, source: 'user' as const, key_id: null, created_at: T0, value_type: 'number' as const, call_id: null };
        await s.insertFeedback({ ...base, id: 'g0', trace_id: 'tr', name: 'early', value_number: 1 });
        // Hold the link (call c1, feedback g0) the batch will write, so it waits right after looking for feedback.
        await raw.query('BEGIN');
        await raw.query('INSERT INTO feedback_links (hour, call_id, feedback_id) VALUES ($1, $2, $3)', [T0, 'c1', 'g0']);
        const writing = s.insertTraces([fullTrace({ id: 'c1', trace_id: 'tr', started_at: T0 + 10 })]);
        await expect
          .poll(async () => (await raw.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n, { timeout: 5000 })
          .toBe(1);
        await s.insertFeedback({ ...base, id: 'f1', trace_id: 'tr', name: 'late', value_number: 0.5 });
        await raw.query('ROLLBACK');
        await writing;
        const [point] = await s.metrics({ from: T0, to: T0 + 3_600_000, bucket: 'hour' });
        expect(point!.feedback).toEqual({ early: { count: 1, mean: 1 }, late: { count: 1, mean: 0.5 } });
      } finally {
        await raw.end();
        await s.close();
      }
    });

    it('fails at once while the server is unreachable, and works when it answers', async () => {
      const down = new PostgresStore({ url: 'postgres://postgres@127.0.0.1:1/none', log: quiet, connectTimeoutMs: 1000 });
      const t = Date.now();
      await expect(down.insertTraces([])).resolves.toBeUndefined();
      await expect(down.ping()).rejects.toThrow();
      await expect(down.countTraces()).rejects.toThrow();
      expect(Date.now() - t).toBeLessThan(3000);
      await down.close();
    });

    it('fails a query at the query timeout when the server stops answering with the connection open, and works once it answers', async () => {
      const u = new URL(url);
      const relay = await startRelay(u.hostname, Number(u.port || 5432));
      const viaRelay = new URL(withDatabase(url, db!.name, `s${++n}`));
      viaRelay.hostname = '127.0.0.1';
      viaRelay.port = String(relay.port);
      const s = new PostgresStore({ url: viaRelay.toString(), log: quiet, queryTimeoutMs: 1000 });
      try {
        await s.migrate();
        expect(await s.countTraces()).toBe(0);
        relay.stall(true);
        const t = performance.now();
        // Bug: with no query timeout this waited for TCP to give up (hours with keepalive's defaults).
        await expect(s.countTraces()).rejects.toThrow(/Query read timeout/);
        expect(performance.now() - t).toBeLessThan(2000);
        relay.stall(false);
        expect(await s.countTraces()).toBe(0);
      } finally {
        relay.stall(false);
        await s.close();
        await relay.down();
      }
    });
  });
}
