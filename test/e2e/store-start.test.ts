/**
 * The gateway migrates its store at start and refuses to start without it: an unreachable
 * store or a failed migration is a named error (and `llmops serve` exits non-zero); once
 * started, the tables exist before the first request.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/gateway.js';
import { createLogger } from '../../src/logger.js';
import { StoreStartError } from '../../src/store/store-errors.js';
import { createTestDatabase, POSTGRES_URL_MISSING, testPostgresUrl, withDatabase } from '../store/postgres-harness.js';

const url = testPostgresUrl();
const log = createLogger('silent');
const gatewayFor = (storeUrl: string) => createGateway({ config: loadConfig({ document: { store: { url: storeUrl } }, env: {} }), adminKey: 'sk-llmops-admin-test-0123456789abcdef', log });

describe('store at gateway start', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  beforeAll(async () => {
    if (url) db = await createTestDatabase(url);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('fails with a named error when PostgreSQL is unreachable, and does not listen', async () => {
    const gw = gatewayFor('postgres://postgres@127.0.0.1:1/none');
    try {
      const err = await gw.listen(0, '127.0.0.1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreStartError);
      expect(err).toMatchObject({ reason: 'unreachable', message: expect.stringMatching(/postgres store is unreachable/) });
      expect(gw.app.server.listening).toBe(false);
    } finally {
      await gw.close();
    }
  });

  it('fails with a named error when a SQLite file cannot be opened', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-start-'));
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    expect(() => gatewayFor(`sqlite:${join(dir, 'not-a-dir', 'llmops.db')}`)).toThrow(StoreStartError);
    writeFileSync(join(dir, 'garbage.db'), 'this is not a SQLite database, not at all, no '.repeat(20));
    expect(() => gatewayFor(`sqlite:${join(dir, 'garbage.db')}`)).toThrow(/sqlite store is unreachable/);
  });

  it('needs LLMOPS_TEST_POSTGRES_URL for the PostgreSQL cases', () => {
    if (!url) expect.fail(POSTGRES_URL_MISSING);
  });

  it('migrates PostgreSQL before listening', async () => {
    const storeUrl = withDatabase(url!, db!.name, 'fresh');
    const gw = gatewayFor(storeUrl);
    const c = new pg.Client({ connectionString: withDatabase(url!, db!.name) });
    await c.connect();
    try {
      await gw.listen(0, '127.0.0.1');
      const r = await c.query("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'fresh' AND table_name IN ('traces', 'schema_migrations')");
      expect(r.rows[0].n).toBe(2);
    } finally {
      await c.end();
      await gw.close();
    }
  });

  it('fails with a named error when the migration fails', async () => {
    const c = new pg.Client({ connectionString: withDatabase(url!, db!.name) });
    await c.connect();
    // A schema holding a table of the same name, not made by llmops: migration 1 cannot run.
    await c.query('CREATE SCHEMA taken; CREATE TABLE taken.keys (x int)');
    await c.end();
    const gw = gatewayFor(withDatabase(url!, db!.name, 'taken'));
    try {
      const err = await gw.ready().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreStartError);
      expect(err).toMatchObject({ reason: 'migration_failed', message: expect.stringMatching(/could not be migrated: relation "keys" already exists/) });
      await expect(gw.listen(0, '127.0.0.1')).rejects.toBeInstanceOf(StoreStartError);
    } finally {
      await gw.close();
    }
  });
});
