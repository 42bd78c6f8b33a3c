/**
 * The embedded SQLite store (better-sqlite3, WAL mode, 16 KiB pages). A batch of traces goes
 * in with one prepared statement inside one transaction, together with what it adds to the
 * hourly rollups and the feedback it attaches, which is what keeps ingest fast and
 * dashboards cheap. Reads are shared with PostgreSQL in `../sql-store.ts`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { createLogger, type Logger } from '../../logger.js';
import { histBucket } from '../histogram.js';
import { HOUR_MS, mergeHistJson, ROLLUP_SOURCE_COLUMNS, ROLLUP_SUM_COLUMNS, rollupBatch, type RollupSource } from '../rollup.js';
import { KEY_COLUMNS, keyToRow, LINK_SQL, linksForCalls, type Row, SqlStore } from '../sql-store.js';
import { type StorableTrace, TRACE_COLUMNS, traceToRow } from '../trace-columns.js';
import { feedbackOfTracesSql, hourOf, retentionSql, type Sql } from '../trace-query.js';
import { classifyStoreError, rejectedTrace } from '../store-errors.js';
import type { InsertResult, KeyRecord, RejectedTrace, TraceRecord } from '../types.js';
import { sqliteMigrations } from './migrations.js';

/** Parses `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:` into a file path for better-sqlite3. */
export function sqlitePathFromUrl(url: string): string {
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (!path) throw new Error(`store.url '${url}' names no SQLite file`);
  return path;
}

const ROLLUP_KEY = ['dim', 'hour', 'kind', 'present', 'value'] as const;

export class SqliteStore extends SqlStore {
  readonly kind = 'sqlite' as const;
  protected readonly dialect = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insertMany: (batch: readonly StorableTrace[]) => InsertResult;
  protected readonly log: Logger;

  /**
   * @example
   * const store = new SqliteStore('./.llmops/llmops.db'); // or ':memory:'
   */
  constructor(path: string, opts: { log?: Logger; cacheMb?: number } = {}) {
    super();
    this.log = opts.log ?? createLogger('warn');
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    // 16 KiB pages (new files only): a trace row with its payloads (~2-3 KB) no longer takes
    // a 4 KiB page of its own, so files are ~25% smaller and ingest is faster.
    this.db.pragma('page_size = 16384');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // Page cache per connection (64 MiB by default, for queries); the trace writer thread's
    // connection takes a smaller one: it only touches the right-hand edges of the indexes.
    this.db.pragma(`cache_size = -${Math.max(1, Math.round((opts.cacheMb ?? 64) * 1024))}`);
    this.db.pragma('temp_store = MEMORY');
    // Checkpoint every 16 MiB of WAL (1024 pages of 16 KiB; measured best for batch ingest),
    // and cut the WAL file back to 64 MiB afterwards.
    this.db.pragma('wal_autocheckpoint = 1024');
    this.db.pragma('journal_size_limit = 67108864');
    this.db.function('llmops_hist_merge', { deterministic: true }, (a: unknown, b: unknown) =>
      mergeHistJson(a === null ? null : String(a), b === null ? null : String(b)),
    );
    this.migrateSync();
    const insertTrace = this.db.prepare(
      `INSERT INTO traces (${TRACE_COLUMNS.map((c) => c[0]).join(', ')}, hour, latency_bucket, ttft_bucket)
       VALUES (${TRACE_COLUMNS.map(() => '?').join(', ')}, ?, ?, ?) ON CONFLICT (hour, id) DO NOTHING`,
    );
    this.insertMany = this.db.transaction((batch: readonly StorableTrace[]): InsertResult => {
      const inserted: StorableTrace[] = [];
      const rejected: RejectedTrace[] = [];
      for (const [index, t] of batch.entries()) {
        try {
          const row = traceToRow(t, true);
          row.push(hourOf(t.started_at), histBucket(t.latency_ms), histBucket(t.ttft_ms));
          // A trace written twice (a retried batch, a re-sent span) counts once. The row goes as
          // arguments: better-sqlite3 binds those directly, an array element by element through V8.
          if (insertTrace.run(...row).changes > 0) inserted.push(t);
        } catch (err) {
          // A row refused for its values undoes only its own statement (SQLite's ABORT):
          // the transaction goes on without it. Anything else fails the whole batch.
          if (classifyStoreError(err) !== 'data') throw err;
          rejected.push(rejectedTrace(index, t, err));
        }
      }
      this.addRollups(inserted);
      this.linkFeedback(inserted);
      return { inserted: inserted.length, rejected };
    });
  }

  /** Attaches feedback written before these calls to them (inside the caller's transaction). */
  private linkFeedback(calls: readonly StorableTrace[]): void {
    if (calls.length === 0) return;
    const q = feedbackOfTracesSql('sqlite', [...new Set(calls.map((t) => t.trace_id))]);
    const feedback = this.stmt(q.sql).all(...q.args) as Row[];
    const link = this.stmt(LINK_SQL);
    for (const l of linksForCalls(calls, feedback)) link.run(l.hour, l.callId, l.feedbackId);
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size > 500) this.statements.clear();
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  protected async all(q: Sql): Promise<Row[]> {
    return this.stmt(q.sql).all(...q.args) as Row[];
  }

  protected async run(q: Sql): Promise<void> {
    this.stmt(q.sql).run(...q.args);
  }

  /** Adds traces to the hourly rollups (inside the caller's transaction). */
  private addRollups(traces: readonly RollupSource[]): void {
    if (traces.length === 0) return;
    const upsert = this.stmt(
      `INSERT INTO trace_rollups (${ROLLUP_KEY.join(', ')}, ${ROLLUP_SUM_COLUMNS.join(', ')}, lat_hist, ttft_hist)
       VALUES (${[...ROLLUP_KEY, ...ROLLUP_SUM_COLUMNS].map(() => '?').join(', ')}, ?, ?)
       ON CONFLICT (${ROLLUP_KEY.join(', ')}) DO UPDATE SET ${ROLLUP_SUM_COLUMNS.map((c) => `${c} = ${c} + excluded.${c}`).join(', ')},
         lat_hist = llmops_hist_merge(lat_hist, excluded.lat_hist), ttft_hist = llmops_hist_merge(ttft_hist, excluded.ttft_hist)`,
    );
    for (const r of rollupBatch(traces)) {
      upsert.run(
        ...ROLLUP_KEY.map((k) => r[k]),
        ...ROLLUP_SUM_COLUMNS.map((c) => r[c]),
        r.lat_hist === null ? null : JSON.stringify(r.lat_hist),
        r.ttft_hist === null ? null : JSON.stringify(r.ttft_hist),
      );
    }
  }

  private migrateSync(): void {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const applied = this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?');
    const migrations = sqliteMigrations({ addRollups: (rows) => this.addRollups(rows) });
    for (const [i, m] of migrations.entries()) {
      const version = i + 1;
      if (applied.get(version)) continue;
      this.db.transaction(() => {
        // Checked again under the write lock: another process may have applied it meanwhile.
        if (applied.get(version)) return;
        if (typeof m === 'string') this.db.exec(m);
        else m(this.db);
        this.db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(version, Date.now());
      }).immediate();
    }
  }

  async migrate(): Promise<void> {
    this.migrateSync();
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async writeTraces(batch: readonly StorableTrace[]): Promise<InsertResult> {
    return this.insertMany(batch);
  }

  /** One retention step, in one write transaction (SQLite has one writer: inserts wait for it). */
  protected async deleteBefore(before: number): Promise<number> {
    const q = retentionSql('sqlite', before);
    const exec = (x: Sql): Database.RunResult => this.stmt(x.sql).run(...x.args);
    return this.db.transaction(() => {
      const losing = (this.stmt(q.feedbackLosingCalls.sql).all(...q.feedbackLosingCalls.args) as Row[]).map((r) => String(r.id));
      const deleted = exec(q.deleteTraces).changes;
      for (const d of q.deleteLinks) exec(d);
      for (let i = 0; i < losing.length; i += 1000) exec(q.deleteUnattachedFeedback(losing.slice(i, i + 1000)));
      exec(q.deleteRollups);
      exec(q.deleteReviewItems);
      if (q.rebuildHour !== null) {
        const kept = this.stmt(`SELECT ${ROLLUP_SOURCE_COLUMNS.join(', ')} FROM traces WHERE started_at >= ? AND started_at < ?`).all(
          q.rebuildHour,
          q.rebuildHour + HOUR_MS,
        ) as RollupSource[];
        this.addRollups(kept);
      }
      return deleted;
    }).immediate();
  }

  async createKey(k: KeyRecord): Promise<void> {
    this.stmt(`INSERT INTO keys (${KEY_COLUMNS.join(', ')}) VALUES (${KEY_COLUMNS.map(() => '?').join(', ')})`).run(...keyToRow(k));
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    return this.stmt('UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id).changes > 0;
  }

  async touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    const stmt = this.stmt('UPDATE keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?');
    this.db.transaction(() => {
      for (const [id, at] of lastUsed) stmt.run(at, id);
    })();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
