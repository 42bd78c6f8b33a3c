/**
 * The embedded SQLite store (better-sqlite3, WAL mode). Batches of traces go in with one
 * prepared statement inside one transaction, which is what makes ingest fast.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { rowToTrace, TRACE_COLUMNS, traceToRow } from '../trace-columns.js';
import type { KeyRecord, Store, TraceQuery, TraceRecord } from '../types.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

type Row = Record<string, unknown>;

function rowToKey(r: Row): KeyRecord {
  return {
    ...(r as unknown as KeyRecord),
    models: r.models == null ? null : (JSON.parse(String(r.models)) as string[]),
    metadata: r.metadata == null ? null : (JSON.parse(String(r.metadata)) as Record<string, unknown>),
  };
}

/** Parses `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:` into a file path for better-sqlite3. */
export function sqlitePathFromUrl(url: string): string {
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (!path) throw new Error(`store.url '${url}' names no SQLite file`);
  return path;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insertTrace: Database.Statement;
  private readonly insertMany: (batch: readonly TraceRecord[]) => void;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrateSync();
    this.insertTrace = this.db.prepare(
      `INSERT INTO traces (${TRACE_COLUMNS.map((c) => c[0]).join(', ')}) VALUES (${TRACE_COLUMNS.map(() => '?').join(', ')})`,
    );
    this.insertMany = this.db.transaction((batch: readonly TraceRecord[]) => {
      for (const t of batch) this.insertTrace.run(traceToRow(t, true));
    });
  }

  private migrateSync(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const applied = new Set(
      (this.db.prepare('SELECT version FROM schema_migrations').all() as Array<{ version: number }>).map((r) => r.version),
    );
    for (const [i, sql] of SQLITE_MIGRATIONS.entries()) {
      const version = i + 1;
      if (applied.has(version)) continue;
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      })();
    }
  }

  async migrate(): Promise<void> {
    this.migrateSync();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async insertTraces(batch: readonly TraceRecord[]): Promise<void> {
    this.insertMany(batch);
  }

  async listTraces(q: TraceQuery): Promise<TraceRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.since !== undefined) {
      where.push('started_at > ?');
      args.push(q.since);
    }
    if (q.keyId !== undefined) {
      where.push('key_id = ?');
      args.push(q.keyId);
    }
    const sql = `SELECT * FROM traces ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as Row[]).map(rowToTrace);
  }

  async getTrace(id: string): Promise<TraceRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM traces WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToTrace(r) : undefined;
  }

  async getTraceCalls(traceId: string): Promise<TraceRecord[]> {
    return (this.db.prepare('SELECT * FROM traces WHERE trace_id = ? ORDER BY started_at, id').all(traceId) as Row[]).map(rowToTrace);
  }

  async countTraces(): Promise<number> {
    return (this.db.prepare('SELECT count(*) AS n FROM traces').get() as { n: number }).n;
  }

  async createKey(k: KeyRecord): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO keys (id, name, key_hash, key_prefix, models, metadata, created_at, expires_at, revoked_at, last_used_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        k.id,
        k.name,
        k.key_hash,
        k.key_prefix,
        k.models === null ? null : JSON.stringify(k.models),
        k.metadata === null ? null : JSON.stringify(k.metadata),
        k.created_at,
        k.expires_at,
        k.revoked_at,
        k.last_used_at,
      );
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM keys WHERE key_hash = ?').get(hash) as Row | undefined;
    return r ? rowToKey(r) : undefined;
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM keys WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToKey(r) : undefined;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return (this.db.prepare('SELECT * FROM keys ORDER BY created_at DESC').all() as Row[]).map(rowToKey);
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    return this.db.prepare('UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  async touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    const stmt = this.db.prepare('UPDATE keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?');
    this.db.transaction(() => {
      for (const [id, at] of lastUsed) stmt.run(at, id);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
