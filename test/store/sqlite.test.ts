/** The store suite against SQLite: a fresh file per test (WAL needs a real file for several connections). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runStoreSuite } from './store-suite.js';

const dir = mkdtempSync(join(tmpdir(), 'llmops-sqlite-suite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

runStoreSuite({
  name: 'sqlite',
  newStore: async () => new SqliteStore(join(dir, `s${++n}.db`)),
  newSiblingStores: async (count) => {
    const path = join(dir, `s${++n}.db`);
    return Array.from({ length: count }, () => new SqliteStore(path));
  },
});
