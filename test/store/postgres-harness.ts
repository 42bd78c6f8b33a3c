/**
 * PostgreSQL for tests: the server named by LLMOPS_TEST_POSTGRES_URL (CI sets it; without
 * it the PostgreSQL tests fail, they never skip), a fresh database per test file, and a
 * fresh schema per store inside it. Everything is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const POSTGRES_URL_MISSING =
  'LLMOPS_TEST_POSTGRES_URL is not set. The PostgreSQL store tests need a server: ' +
  'export LLMOPS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test (CI sets it in .ci/run).';

export function testPostgresUrl(): string | undefined {
  return process.env.LLMOPS_TEST_POSTGRES_URL || undefined;
}

export function withDatabase(url: string, database: string, schema?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (schema) u.searchParams.set('schema', schema);
  return u.toString();
}

/** Creates a database for one test file; `drop()` removes it, connections and all. */
export async function createTestDatabase(url: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `llmops_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(url, name),
    async drop() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
