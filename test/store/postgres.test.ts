/** The store suite against real PostgreSQL (LLMOPS_TEST_POSTGRES_URL): a fresh schema per test, in a database made for this file. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { parsePostgresUrl, PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { createTestDatabase, POSTGRES_URL_MISSING, testPostgresUrl, withDatabase } from './postgres-harness.js';
import { runStoreSuite } from './store-suite.js';
import { createLogger } from '../../src/logger.js';

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

    it('fails at once while the server is unreachable, and works when it answers', async () => {
      const down = new PostgresStore({ url: 'postgres://postgres@127.0.0.1:1/none', log: quiet, connectTimeoutMs: 1000 });
      const t = Date.now();
      await expect(down.insertTraces([])).resolves.toBeUndefined();
      await expect(down.ping()).rejects.toThrow();
      await expect(down.countTraces()).rejects.toThrow();
      expect(Date.now() - t).toBeLessThan(3000);
      await down.close();
    });
  });
}
