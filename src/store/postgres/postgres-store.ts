/**
 * The PostgreSQL store (node-postgres pool), for several gateways sharing one database.
 * Migrations run once under an advisory lock, so gateways may start together. A batch of
 * traces goes in as two transactions in parallel (one backend is CPU-bound on parsing and
 * indexing), each one INSERT over `unnest` arrays plus the rollup rows it adds. Inserts
 * are idempotent on (hour, id), so a batch retried after a lost commit acknowledgement is
 * not counted twice; a row the server refuses for its values is found by bisecting and
 * left out (reported), never blocking the batch. Feedback is linked after the commit. While the server is down every call fails at once with the driver's
 * error (the trace writer retries); the pool reconnects when it is back.
 * Reads are shared with SQLite in `../sql-store.ts`.
 */
import type pg from 'pg';
import { lazyRequire } from '../../lazy-require.js';
import { createLogger, type Logger } from '../../logger.js';
import { histBucket } from '../histogram.js';
import { HOUR_MS, ROLLUP_SOURCE_COLUMNS, ROLLUP_SUM_COLUMNS, rollupBatch, type RollupSource } from '../rollup.js';
import { KEY_COLUMNS, keyToRow, linksForCalls, type Row, SqlStore } from '../sql-store.js';
import { type ColumnKind, type StorableTrace, TRACE_COLUMNS, traceToRow } from '../trace-columns.js';
import { feedbackOfTracesSql, hourOf, retentionSql, type Sql } from '../trace-query.js';
import { classifyStoreError, rejectedTrace } from '../store-errors.js';
import type { InsertResult, KeyRecord, RejectedTrace, TraceRecord } from '../types.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

/** node-postgres, loaded when a PostgreSQL store is opened. */
const pgModule = lazyRequire<typeof pg>('pg');

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db`; a `schema=NAME` query parameter puts every table in that schema. */
  url: string;
  /** Overrides the URL's `schema`. */
  schema?: string;
  /** Pool size (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection before failing (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * How long a query may wait for its answer before it fails and its connection is dropped
   * (default {@link PG_QUERY_TIMEOUT_MS}). Without it a server gone silent with connections
   * open (a host gone dark, a partition) held each query until TCP gave up, hours later.
   */
  queryTimeoutMs?: number;
  /** Parallel transactions per batch of traces (default 2). */
  writeConcurrency?: number;
  log?: Logger;
}

/** The default query timeout: far above any query llmops makes on a healthy server (trace batches, reports over millions of rows). */
export const PG_QUERY_TIMEOUT_MS = 30_000;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Splits `schema=` off a PostgreSQL URL. */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`store.url '${url.replace(/:[^:@/]*@/, ':***@')}' is not a valid postgres:// URL`);
  }
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

// bigint and numeric as JS numbers (ms timestamps and sums fit), JSON as text for rowToTrace.
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    if (oid === 114 || oid === 3802) return (v: string) => v;
    return pgModule().types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** `?` placeholders → `$1, $2, …` (the shared SQL never has `?` inside literals). */
function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

const UNNEST_TYPE: Record<ColumnKind, string> = { text: 'text', int: 'bigint', real: 'float8', bool: 'bool', json: 'text', json_text: 'text' };
const TRACE_INSERT_COLUMNS = [...TRACE_COLUMNS.map((c) => c[0]), 'hour', 'latency_bucket', 'ttft_bucket'];
/**
 * The advisory lock between rollup writers: every trace insert holds it shared, retention
 * (which deletes rollup rows and rebuilds the hour it cuts) holds it exclusive, so a
 * retention pass never rebuilds an hour from traces an uncommitted insert is still adding
 * to the rollups (counted twice), nor deletes around one (counted never). One per schema.
 */
const ROLLUP_LOCK_KEY = "hashtext('llmops.rollups.' || current_schema())";

// The lock is taken in the insert itself (a materialized CTE is evaluated once, before any
// row is produced): no extra round trip per batch.
const TRACE_INSERT_SQL = `WITH rollup_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${ROLLUP_LOCK_KEY}))
  INSERT INTO traces (${TRACE_INSERT_COLUMNS.join(', ')})
  SELECT ${TRACE_COLUMNS.map(([, kind], i) => (kind === 'json' || kind === 'json_text' ? `c${i}::jsonb` : `c${i}`)).join(', ')}, d, lb, tb
  FROM rollup_lock, unnest(${TRACE_COLUMNS.map(([, kind], i) => `$${i + 1}::${UNNEST_TYPE[kind]}[]`).join(', ')},
    $${TRACE_COLUMNS.length + 1}::bigint[], $${TRACE_COLUMNS.length + 2}::smallint[], $${TRACE_COLUMNS.length + 3}::smallint[])
    AS u(${TRACE_COLUMNS.map((_, i) => `c${i}`).join(', ')}, d, lb, tb)
  ON CONFLICT (hour, id) DO NOTHING
  RETURNING id, hour`;

/** Smallest part of a batch worth its own transaction. */
const MIN_PART_ROWS = 200;

const ROLLUP_KEY = ['dim', 'hour', 'kind', 'present', 'value'] as const;
const ROLLUP_KEY_TYPES = ['text', 'bigint', 'text', 'smallint', 'text'];
// Histograms travel as array literals ('{0,3,1}') in a text[]: unnest would flatten an int[][].
const ROLLUP_UPSERT_SQL = `INSERT INTO trace_rollups (${[...ROLLUP_KEY, ...ROLLUP_SUM_COLUMNS].join(', ')}, lat_hist, ttft_hist)
  SELECT ${[...ROLLUP_KEY, ...ROLLUP_SUM_COLUMNS].map((_, i) => `c${i}`).join(', ')}, lh::integer[], th::integer[]
  FROM unnest(${[...ROLLUP_KEY_TYPES, ...ROLLUP_SUM_COLUMNS.map((c) => (c === 'cost_usd' ? 'float8' : 'bigint')), 'text', 'text']
    .map((t, i) => `$${i + 1}::${t}[]`)
    .join(', ')}) AS u(${[...ROLLUP_KEY, ...ROLLUP_SUM_COLUMNS].map((_, i) => `c${i}`).join(', ')}, lh, th)
  ON CONFLICT (${ROLLUP_KEY.join(', ')}) DO UPDATE SET ${ROLLUP_SUM_COLUMNS.map((c) => `${c} = trace_rollups.${c} + excluded.${c}`).join(', ')},
    lat_hist = llmops_hist_merge(trace_rollups.lat_hist, excluded.lat_hist),
    ttft_hist = llmops_hist_merge(trace_rollups.ttft_hist, excluded.ttft_hist)`;

const LONE_SURROGATE_ESCAPE = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/g;

/**
 * JSON text PostgreSQL's jsonb accepts: it refuses `\u0000` and unpaired surrogate escapes,
 * which would otherwise fail the whole batch on every retry. They become U+FFFD.
 */
export function jsonForPostgres(json: string): string {
  if (!json.includes('\\u')) return json;
  // Only real escapes: an even number of backslashes before `\u`.
  return json.replace(/(?<!\\)((?:\\\\)*)\\u0000/g, '$1\\ufffd').replace(LONE_SURROGATE_ESCAPE, (m, offset: number, s: string) => {
    let slashes = 0;
    for (let i = offset - 1; i >= 0 && s[i] === '\\'; i--) slashes++;
    return slashes % 2 === 0 ? '\\ufffd' : m;
  });
}

function textForPostgres(v: unknown): unknown {
  return typeof v === 'string' && v.includes('\u0000') ? v.replaceAll('\u0000', '\ufffd') : v;
}

/** One trace of a batch, as the insert's parameters. */
interface PgTraceRow {
  index: number;
  trace: StorableTrace;
  values: unknown[];
}

/** A trace as the values of {@link TRACE_INSERT_COLUMNS}; throws when the record cannot be serialized. */
function pgTraceValues(t: StorableTrace): unknown[] {
  const row = traceToRow(t, false);
  for (let i = 0; i < TRACE_COLUMNS.length; i++) {
    const kind = TRACE_COLUMNS[i]![1];
    const v = row[i];
    row[i] = kind === 'json' || kind === 'json_text' ? (typeof v === 'string' ? jsonForPostgres(v) : v) : kind === 'text' ? textForPostgres(v) : v;
  }
  row.push(hourOf(t.started_at), histBucket(t.latency_ms), histBucket(t.ttft_ms));
  return row;
}

export class PostgresStore extends SqlStore {
  readonly kind = 'postgres' as const;
  protected readonly dialect = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly schema: string | undefined;
  protected readonly log: Logger;
  private ready: Promise<void> | undefined;
  private closed = false;
  private readonly writeConcurrency: number;

  /**
   * Tables are created on first use (or by {@link migrate}).
   * @example
   * const store = new PostgresStore({ url: 'postgres://llmops@db:5432/llmops' });
   * await store.migrate();
   */
  constructor(opts: PostgresStoreOptions) {
    super();
    const parsed = parsePostgresUrl(opts.url);
    this.schema = opts.schema ?? parsed.schema;
    if (this.schema !== undefined && !SCHEMA_NAME.test(this.schema)) {
      throw new Error(`store.url: schema '${this.schema}' must be lower-case letters, digits and _`);
    }
    this.log = opts.log ?? createLogger('warn');
    this.writeConcurrency = Math.max(1, opts.writeConcurrency ?? 2);
    this.pool = new (pgModule().Pool)({
      connectionString: parsed.connectionString,
      max: opts.maxConnections ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      query_timeout: opts.queryTimeoutMs ?? PG_QUERY_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'llmops',
      types: TYPES,
      ...(this.schema === undefined ? {} : { options: `-c search_path=${this.schema}` }),
    });
    // An idle connection that dies (server restart) is dropped by the pool; without a
    // listener the 'error' event would crash the process.
    this.pool.on('error', (err) => this.log.warn('postgres: idle connection lost', { err }));
  }

  private ensureReady(): Promise<void> {
    this.ready ??= this.runMigrations().catch((err: unknown) => {
      this.ready = undefined; // try again on the next call
      throw err;
    });
    return this.ready;
  }

  protected async all(q: Sql): Promise<Row[]> {
    await this.ensureReady();
    return (await this.pool.query<Row>(numbered(q.sql), q.args)).rows;
  }

  /** Runs `fn` in one transaction on one connection. */
  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection that drops while checked out (between two statements) emits 'error'
    // on the client; unheard, that would crash the process. The statement in flight fails anyway.
    const onError = (err: Error): void => {
      broken = err;
      this.log.warn('postgres: connection lost in a transaction', { err });
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: unknown) => {
        broken = e instanceof Error ? e : new Error(String(e));
      });
      throw err;
    } finally {
      client.off('error', onError);
      // A connection that failed or whose rollback failed is gone or confused: do not reuse it.
      client.release(broken);
    }
  }

  async migrate(): Promise<void> {
    this.ready = this.runMigrations();
    try {
      await this.ready;
    } catch (err) {
      this.ready = undefined;
      throw err;
    }
  }

  private async runMigrations(): Promise<void> {
    await this.transaction(async (c) => {
      // One migrator at a time per schema: the others wait here, then find nothing to do.
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`llmops.migrate.${this.schema ?? ''}`]);
      if (this.schema !== undefined) await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at bigint NOT NULL)');
      const applied = new Set((await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
      for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
        const version = i + 1;
        if (applied.has(version)) continue;
        await c.query(sql);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  /**
   * Writes a batch as up to `writeConcurrency` transactions in parallel (a single backend
   * is CPU-bound on parsing and indexing). Each part is idempotent, so when one fails the
   * writer may retry the whole batch: rows already stored are skipped, in the rollups too.
   * A part refused for its values (a poison row) is bisected until the refused rows are
   * alone; they are left out and reported, the rest is stored.
   */
  async writeTraces(batch: readonly StorableTrace[]): Promise<InsertResult> {
    if (batch.length === 0) return { inserted: 0, rejected: [] };
    await this.ensureReady();
    const parts = Math.max(1, Math.min(this.writeConcurrency, Math.floor(batch.length / MIN_PART_ROWS)));
    const size = Math.ceil(batch.length / parts);
    const writes: Array<Promise<InsertResult>> = [];
    for (let i = 0; i < batch.length; i += size) writes.push(this.insertPart(batch.slice(i, i + size), i));
    const settled = await Promise.allSettled(writes);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const out: InsertResult = { inserted: 0, rejected: [] };
    for (const r of settled) {
      if (r.status !== 'fulfilled') continue;
      out.inserted += r.value.inserted;
      out.rejected.push(...r.value.rejected);
    }
    return out;
  }

  /** One part of a batch (`offset`: where it starts in the batch, for the rejected rows' indexes). */
  private async insertPart(part: readonly StorableTrace[], offset: number): Promise<InsertResult> {
    const rows: PgTraceRow[] = [];
    const rejected: RejectedTrace[] = [];
    for (const [r, t] of part.entries()) {
      try {
        rows.push({ index: offset + r, trace: t, values: pgTraceValues(t) });
      } catch (err) {
        if (classifyStoreError(err) !== 'data') throw err;
        rejected.push(rejectedTrace(offset + r, t, err));
      }
    }
    const stored: PgTraceRow[] = [];
    const inserted = await this.writeRows(rows, stored, rejected);
    // Feedback is linked after the commit, to every stored call of the part (also those a
    // retried batch had already stored): feedback committed while this transaction was open
    // was invisible to it, and the feedback's own pass could not see these calls yet. One of
    // the two passes runs after both commits, so links do not depend on the order.
    await this.linkFeedback(stored.map((r) => r.trace));
    rejected.sort((a, b) => a.index - b.index);
    return { inserted, rejected };
  }

  /**
   * Inserts rows in one transaction; when the database refuses their values, in two halves,
   * and so on down to the single rows refused. Pushes what is stored to `stored` and what is
   * refused to `rejected`; returns how many rows were new.
   */
  private async writeRows(rows: readonly PgTraceRow[], stored: PgTraceRow[], rejected: RejectedTrace[]): Promise<number> {
    if (rows.length === 0) return 0;
    try {
      const inserted = await this.transaction(async (c) => {
        const columns: unknown[][] = TRACE_INSERT_COLUMNS.map((_, i) => rows.map((r) => r.values[i]));
        const res = await c.query<{ id: string; hour: number }>(TRACE_INSERT_SQL, columns);
        // Only what this transaction inserted adds to the rollups (each row once, even when
        // the batch holds it twice).
        let fresh = rows.map((r) => r.trace);
        if (res.rows.length !== rows.length) {
          const keys = new Set(res.rows.map((r) => `${r.hour}:${r.id}`));
          fresh = fresh.filter((t) => keys.delete(`${hourOf(t.started_at)}:${t.id}`));
        }
        await this.addRollups(c, fresh);
        return fresh.length;
      });
      stored.push(...rows);
      return inserted;
    } catch (err) {
      if (classifyStoreError(err) !== 'data') throw err;
      if (rows.length === 1) {
        rejected.push(rejectedTrace(rows[0]!.index, rows[0]!.trace, err));
        return 0;
      }
      const half = Math.ceil(rows.length / 2);
      return (await this.writeRows(rows.slice(0, half), stored, rejected)) + (await this.writeRows(rows.slice(half), stored, rejected));
    }
  }

  private async addRollups(c: pg.PoolClient, traces: readonly RollupSource[]): Promise<void> {
    if (traces.length === 0) return;
    const rows = rollupBatch(traces);
    await c.query(ROLLUP_UPSERT_SQL, [
      ...ROLLUP_KEY.map((k) => rows.map((r) => r[k])),
      ...ROLLUP_SUM_COLUMNS.map((k) => rows.map((r) => r[k])),
      rows.map((r) => (r.lat_hist === null ? null : `{${r.lat_hist.join(',')}}`)),
      rows.map((r) => (r.ttft_hist === null ? null : `{${r.ttft_hist.join(',')}}`)),
    ]);
  }

  /** Attaches the feedback stored for these calls' traces to them (after their commit, see `insertPart`). */
  private async linkFeedback(calls: readonly StorableTrace[]): Promise<void> {
    if (calls.length === 0) return;
    const q = feedbackOfTracesSql('postgres', [...new Set(calls.map((t) => t.trace_id))]);
    const links = linksForCalls(calls, (await this.pool.query<Row>(numbered(q.sql), q.args)).rows);
    if (links.length === 0) return;
    await this.pool.query(
      `INSERT INTO feedback_links (hour, call_id, feedback_id) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])
       ON CONFLICT (hour, call_id, feedback_id) DO NOTHING`,
      [links.map((l) => l.hour), links.map((l) => l.callId), links.map((l) => l.feedbackId)],
    );
  }

  protected async run(q: Sql): Promise<void> {
    await this.ensureReady();
    await this.pool.query(numbered(q.sql), q.args.map(textForPostgres));
  }

  /** One retention step, in one transaction holding the rollup lock exclusively (see {@link ROLLUP_LOCK_KEY}). */
  protected async deleteBefore(before: number): Promise<number> {
    await this.ensureReady();
    const q = retentionSql('postgres', before);
    const exec = (c: pg.PoolClient, x: Sql): Promise<pg.QueryResult> => c.query(numbered(x.sql), x.args);
    return this.transaction(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`);
      const losing = (await exec(c, q.feedbackLosingCalls)).rows.map((r: Row) => String(r.id));
      const deleted = (await exec(c, q.deleteTraces)).rowCount ?? 0;
      for (const d of q.deleteLinks) await exec(c, d);
      for (let i = 0; i < losing.length; i += 10_000) await exec(c, q.deleteUnattachedFeedback(losing.slice(i, i + 10_000)));
      await exec(c, q.deleteRollups);
      await exec(c, q.deleteReviewItems);
      if (q.rebuildHour !== null) {
        const kept = await c.query<RollupSource>(`SELECT ${ROLLUP_SOURCE_COLUMNS.join(', ')} FROM traces WHERE started_at >= $1 AND started_at < $2`, [
          q.rebuildHour,
          q.rebuildHour + HOUR_MS,
        ]);
        await this.addRollups(c, kept.rows);
      }
      return deleted;
    });
  }

  async createKey(k: KeyRecord): Promise<void> {
    await this.ensureReady();
    await this.pool.query(`INSERT INTO keys (${KEY_COLUMNS.join(', ')}) VALUES (${KEY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, keyToRow(k));
  }

  async revokeKey(id: string, at: number): Promise<boolean> {
    await this.ensureReady();
    return ((await this.pool.query('UPDATE keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id])).rowCount ?? 0) > 0;
  }

  async touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    await this.ensureReady();
    await this.pool.query(
      `UPDATE keys k SET last_used_at = GREATEST(coalesce(k.last_used_at, 0), u.at)
       FROM unnest($1::text[], $2::bigint[]) AS u(id, at) WHERE k.id = u.id`,
      [[...lastUsed.keys()], [...lastUsed.values()]],
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
