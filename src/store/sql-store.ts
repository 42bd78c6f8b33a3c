/**
 * What the SQL backends share: every read of traces, metrics, costs, summaries, feedback
 * and keys, written once over a tiny driver surface (`all`). A backend adds its
 * connection, migrations and the writes (which differ in transactions and bulk insert).
 */
import { type CursorPosition, decodeCursor, encodeCursor } from './trace-cursor.js';
import { MetricsAccumulator } from './metrics-accumulator.js';
import { planRollup, rollupConditions, rollupGroupExpr, type RollupPlan } from './rollup.js';
import { rowToTrace } from './trace-columns.js';
import {
  BUCKET_MS,
  dayIn,
  dayOf,
  daysOf,
  effectiveFilter,
  feedbackSql,
  filterConditions,
  rawSumsSql,
  rawTtftSql,
  searchDaySql,
  type Sql,
  type SqlDialect,
  summarySql,
  TRACE_SELECT,
} from './trace-query.js';
import type {
  CostRow,
  FeedbackRecord,
  GroupBy,
  KeyRecord,
  MetricsPoint,
  MetricsQuery,
  Store,
  SubjectSummary,
  TraceFilter,
  TracePage,
  TraceQuery,
  TraceRecord,
} from './types.js';

export type Row = Record<string, unknown>;

export const MAX_PAGE = 1000;

export function rowToKey(r: Row): KeyRecord {
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(r.id),
    name: String(r.name),
    key_hash: String(r.key_hash),
    key_prefix: String(r.key_prefix),
    models: r.models == null ? null : (JSON.parse(String(r.models)) as string[]),
    metadata: r.metadata == null ? null : (JSON.parse(String(r.metadata)) as Record<string, unknown>),
    created_at: Number(r.created_at),
    expires_at: n(r.expires_at),
    revoked_at: n(r.revoked_at),
    last_used_at: n(r.last_used_at),
  };
}

export function rowToFeedback(r: Row): FeedbackRecord {
  return {
    id: String(r.id),
    trace_id: String(r.trace_id),
    call_id: r.call_id == null ? null : String(r.call_id),
    name: String(r.name),
    value_number: r.value_number == null ? null : Number(r.value_number),
    value_string: r.value_string == null ? null : String(r.value_string),
    value_type: r.value_type as FeedbackRecord['value_type'],
    comment: r.comment == null ? null : String(r.comment),
    source: r.source as FeedbackRecord['source'],
    key_id: r.key_id == null ? null : String(r.key_id),
    created_at: Number(r.created_at),
  };
}

export const FEEDBACK_COLUMNS = [
  'id',
  'trace_id',
  'call_id',
  'name',
  'value_number',
  'value_string',
  'value_type',
  'comment',
  'source',
  'key_id',
  'created_at',
] as const satisfies ReadonlyArray<keyof FeedbackRecord>;

export const KEY_COLUMNS = [
  'id',
  'name',
  'key_hash',
  'key_prefix',
  'models',
  'metadata',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
] as const satisfies ReadonlyArray<keyof KeyRecord>;

export function keyToRow(k: KeyRecord): unknown[] {
  return KEY_COLUMNS.map((c) => {
    const v = k[c];
    if (c === 'models' || c === 'metadata') return v === null ? null : JSON.stringify(v);
    return v;
  });
}

function clampLimit(limit: number): number {
  if (!Number.isFinite(limit)) return MAX_PAGE;
  return Math.min(MAX_PAGE, Math.max(1, Math.trunc(limit)));
}

export abstract class SqlStore implements Store {
  abstract readonly kind: 'sqlite' | 'postgres';
  protected abstract readonly dialect: SqlDialect;

  /** Runs one statement (`?` placeholders) and returns its rows. */
  protected abstract all(q: Sql): Promise<Row[]>;

  abstract migrate(): Promise<void>;
  abstract ping(): Promise<void>;
  abstract insertTraces(batch: readonly TraceRecord[]): Promise<void>;
  abstract insertFeedback(f: FeedbackRecord): Promise<void>;
  abstract deleteTracesBefore(before: number): Promise<number>;
  abstract createKey(k: KeyRecord): Promise<void>;
  abstract revokeKey(id: string, at: number): Promise<boolean>;
  abstract touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;
  abstract close(): Promise<void>;

  protected async one(q: Sql): Promise<Row | undefined> {
    return (await this.all(q))[0];
  }

  async listTraces(q: TraceQuery): Promise<TraceRecord[]> {
    const { where, args } = filterConditions(this.dialect, q.keyId === undefined ? {} : { keyId: q.keyId });
    if (q.since !== undefined) {
      where.push('started_at > ?');
      args.push(q.since);
    }
    const sql = `SELECT ${TRACE_SELECT} FROM traces ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT ?`;
    return (await this.all({ sql, args: [...args, Math.max(0, Math.trunc(q.limit))] })).map(rowToTrace);
  }

  /** The first and last start times stored, or null when there are no traces (two index lookups). */
  protected async timeSpan(): Promise<{ lo: number; hi: number } | null> {
    // Two subqueries: SQLite answers a lone min() or max() from the index, not both in one.
    const r = await this.one({ sql: 'SELECT (SELECT min(started_at) FROM traces) AS lo, (SELECT max(started_at) FROM traces) AS hi', args: [] });
    return r?.lo == null || r.hi == null ? null : { lo: Number(r.lo), hi: Number(r.hi) };
  }

  /** Every day that holds traces, newest first (for lookups through day-prefixed indexes). */
  protected async storedDays(): Promise<number[]> {
    const span = await this.timeSpan();
    return span ? daysOf(span.lo, span.hi + 1) : [];
  }

  /**
   * Newest first; pass `next_cursor` back for the next page. Reads day by day from the
   * newest, each day through the index that fits the filter, until the page is full.
   * @example
   * let page = await store.searchTraces({ feature: 'search', status: 'error' }, 50);
   * while (page.next_cursor) page = await store.searchTraces({ feature: 'search', status: 'error' }, 50, page.next_cursor);
   */
  async searchTraces(filter: TraceFilter, limit: number, cursor?: string | null): Promise<TracePage> {
    const n = clampLimit(limit);
    const after: CursorPosition | null = cursor ? decodeCursor(cursor) : null;
    const f = effectiveFilter(filter);
    const span = await this.timeSpan();
    const rows: Row[] = [];
    if (span) {
      const newest = Math.min(span.hi, (f.to ?? Infinity) - 1, after?.startedAt ?? Infinity);
      const oldest = Math.max(span.lo, f.from ?? -Infinity);
      for (let day = dayOf(newest); day >= dayOf(oldest) && rows.length <= n; day--) {
        rows.push(...(await this.all(searchDaySql(this.dialect, f, day, n + 1 - rows.length, after))));
      }
    }
    const data = rows.slice(0, n).map(rowToTrace);
    const last = data[data.length - 1];
    return { data, next_cursor: rows.length > n && last ? encodeCursor({ startedAt: last.started_at, id: last.id }) : null };
  }

  async getTrace(id: string): Promise<TraceRecord | undefined> {
    const r = await this.one({ sql: `SELECT ${TRACE_SELECT} FROM traces WHERE ${dayIn(await this.storedDays())} AND id = ?`, args: [id] });
    return r ? rowToTrace(r) : undefined;
  }

  async getTraceCalls(traceId: string): Promise<TraceRecord[]> {
    const rows = await this.all({
      sql: `SELECT ${TRACE_SELECT} FROM traces WHERE ${dayIn(await this.storedDays())} AND trace_id = ? ORDER BY started_at, id`,
      args: [traceId],
    });
    return rows.map(rowToTrace);
  }

  async countTraces(): Promise<number> {
    return Number((await this.one({ sql: 'SELECT count(*) AS n FROM traces', args: [] }))?.n ?? 0);
  }

  /**
   * Time series over [from, to): one point per bucket (UTC) and group that has calls.
   * Whole hours come from the hourly rollups when the query allows it (see `rollup.ts`).
   * @example
   * await store.metrics({ from: Date.now() - 86_400_000, to: Date.now(), bucket: 'hour', groupBy: 'model' });
   */
  async metrics(q: MetricsQuery): Promise<MetricsPoint[]> {
    const width = BUCKET_MS[q.bucket];
    const acc = new MetricsAccumulator();
    const plan = q.bucket === 'minute' ? null : planRollup(q.from, q.to, q.groupBy, q.filter, true);
    const rawRanges = plan ? plan.edges : [{ from: q.from, to: q.to }];
    const jobs: Array<Promise<void>> = [];
    for (const r of rawRanges) {
      const f: TraceFilter = { ...q.filter, from: r.from, to: r.to };
      jobs.push(this.all(rawSumsSql(this.dialect, f, width, q.groupBy, true)).then((rows) => acc.addSumRows(rows, true)));
      jobs.push(this.all(rawTtftSql(this.dialect, f, width, q.groupBy)).then((rows) => acc.addTtftRows(rows)));
    }
    if (plan) jobs.push(this.all(this.rollupRowsSql(plan, width, q.groupBy !== undefined)).then((rows) => acc.addRollupRows(rows)));
    jobs.push(
      this.all(feedbackSql(this.dialect, { ...q.filter, from: q.from, to: q.to }, width, q.groupBy)).then((rows) => acc.addFeedbackRows(rows)),
    );
    await Promise.all(jobs);
    return acc.metrics();
  }

  /**
   * Totals per group over [from, to), most expensive first; calls with no known price are
   * counted in `unknown_cost_requests`, never priced as 0.
   * @example
   * await store.costs({ from: Date.now() - 30 * 86_400_000, to: Date.now(), groupBy: 'feature' });
   */
  async costs(q: { from: number; to: number; groupBy: GroupBy; filter?: Omit<TraceFilter, 'from' | 'to'> }): Promise<CostRow[]> {
    const acc = new MetricsAccumulator();
    const plan = planRollup(q.from, q.to, q.groupBy, q.filter, false);
    const rawRanges = plan ? plan.edges : [{ from: q.from, to: q.to }];
    const jobs: Array<Promise<void>> = [];
    for (const r of rawRanges) {
      const f: TraceFilter = { ...q.filter, from: r.from, to: r.to };
      jobs.push(this.all(rawSumsSql(this.dialect, f, null, q.groupBy, false)).then((rows) => acc.addSumRows(rows, false)));
    }
    if (plan) jobs.push(this.all(this.rollupSumsSql(plan, null, true)).then((rows) => acc.addSumRows(rows, false)));
    await Promise.all(jobs);
    return acc.costs();
  }

  private rollupSumsSql(plan: RollupPlan, width: number | null, grouped: boolean): Sql {
    const { where, args } = rollupConditions(plan);
    const bucket = width === null ? '0' : `(hour / ${width}) * ${width}`;
    return {
      sql: `SELECT ${bucket} AS bucket, ${rollupGroupExpr(grouped)} AS grp, 0 AS idx,
          sum(requests) AS requests, sum(errors) AS errors, sum(input_tokens) AS input_tokens,
          sum(output_tokens) AS output_tokens, sum(cached_tokens) AS cached_tokens,
          sum(reasoning_tokens) AS reasoning_tokens, sum(cost_usd) AS cost_usd,
          sum(unknown_cost) AS unknown_cost, sum(cache_hits) AS cache_hits, sum(cache_misses) AS cache_misses
        FROM trace_rollups WHERE ${where.join(' AND ')} GROUP BY 1, 2`,
      args,
    };
  }

  /** Rollup rows one by one (sums and histograms), with their bucket and group. */
  private rollupRowsSql(plan: RollupPlan, width: number, grouped: boolean): Sql {
    const { where, args } = rollupConditions(plan);
    return {
      sql: `SELECT (hour / ${width}) * ${width} AS bucket, ${rollupGroupExpr(grouped)} AS grp,
          requests, errors, input_tokens, output_tokens, cached_tokens, reasoning_tokens,
          cost_usd, unknown_cost, cache_hits, cache_misses, lat_hist, ttft_hist
        FROM trace_rollups WHERE ${where.join(' AND ')}`,
      args,
    };
  }

  private async summary(column: 'session_id' | 'user_id', id: string): Promise<SubjectSummary | undefined> {
    const q = summarySql(column, id, await this.storedDays());
    const [totals, models] = await Promise.all([this.one(q.totals), this.all(q.models)]);
    const requests = Number(totals?.requests ?? 0);
    if (!totals || requests === 0) return undefined;
    return {
      id,
      requests,
      errors: Number(totals.errors ?? 0),
      cost_usd: Number(totals.cost_usd ?? 0),
      input_tokens: Number(totals.input_tokens ?? 0),
      output_tokens: Number(totals.output_tokens ?? 0),
      first_seen: totals.first_seen == null ? null : Number(totals.first_seen),
      last_seen: totals.last_seen == null ? null : Number(totals.last_seen),
      models: models.map((m) => String(m.model)),
    };
  }

  sessionSummary(sessionId: string): Promise<SubjectSummary | undefined> {
    return this.summary('session_id', sessionId);
  }

  userSummary(userId: string): Promise<SubjectSummary | undefined> {
    return this.summary('user_id', userId);
  }

  async listFeedback(traceId: string): Promise<FeedbackRecord[]> {
    const rows = await this.all({ sql: `SELECT ${FEEDBACK_COLUMNS.join(', ')} FROM feedback WHERE trace_id = ? ORDER BY created_at, id`, args: [traceId] });
    return rows.map(rowToFeedback);
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    const r = await this.one({ sql: `SELECT ${KEY_COLUMNS.join(', ')} FROM keys WHERE key_hash = ?`, args: [hash] });
    return r ? rowToKey(r) : undefined;
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const r = await this.one({ sql: `SELECT ${KEY_COLUMNS.join(', ')} FROM keys WHERE id = ?`, args: [id] });
    return r ? rowToKey(r) : undefined;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return (await this.all({ sql: `SELECT ${KEY_COLUMNS.join(', ')} FROM keys ORDER BY created_at DESC, id`, args: [] })).map(rowToKey);
  }
}
