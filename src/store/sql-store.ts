/**
 * What the SQL backends share: every read of traces, metrics, costs, summaries, feedback
 * and keys, and feedback's attachment to calls, written once over a tiny driver surface
 * (`all`, `run`). A backend adds its connection, migrations and the bulk writes (which
 * differ in transactions and batching).
 *
 * Feedback is attached to calls in `feedback_links` (hour, call id, feedback id): to the
 * call it names, or to every call of its trace id. Links are made when the feedback is
 * written (for calls already stored) and when calls are written (for feedback already
 * stored), so metrics join feedback to calls by primary key, hour by hour.
 */
import type { Logger } from '../logger.js';
import { type CursorPosition, decodeCursor, encodeCursor } from './trace-cursor.js';
import { MetricsAccumulator } from './metrics-accumulator.js';
import { planRollup, rollupConditions, rollupGroupExpr, type RollupPlan } from './rollup.js';
import * as review from './review-sql.js';
import { rowToTrace, type StorableTrace } from './trace-columns.js';
import {
  BUCKET_MS,
  hourIn,
  hourOf,
  effectiveFilter,
  feedbackSql,
  filterConditions,
  rawSumsSql,
  rawTtftSql,
  searchHoursSql,
  SLOT_MS,
  type Sql,
  type SqlDialect,
  summarySql,
  TRACE_SELECT,
} from './trace-query.js';
import type {
  AuditEvent,
  AuditQuery,
  CostRow,
  FeedbackRecord,
  GroupBy,
  InsertResult,
  KeyPatch,
  KeyRecord,
  MetricsPoint,
  MetricsQuery,
  ReviewItem,
  ReviewLabel,
  Store,
  SubjectSummary,
  TraceFilter,
  TracePage,
  TraceQuery,
  TraceRecord,
} from './types.js';

export type Row = Record<string, unknown>;

/** One attachment of a feedback to a call (see the module comment). */
export interface FeedbackLink {
  hour: number;
  callId: string;
  feedbackId: string;
}

/** Links for calls just written, to the feedback of their traces stored before them (rows of `feedbackOfTracesSql`). */
export function linksForCalls(calls: readonly Pick<TraceRecord, 'id' | 'trace_id' | 'started_at'>[], feedback: readonly Row[]): FeedbackLink[] {
  const links: FeedbackLink[] = [];
  if (feedback.length === 0) return links;
  const byTrace = new Map<string, Array<Pick<TraceRecord, 'id' | 'trace_id' | 'started_at'>>>();
  for (const t of calls) byTrace.set(t.trace_id, [...(byTrace.get(t.trace_id) ?? []), t]);
  for (const fb of feedback) {
    for (const t of byTrace.get(String(fb.trace_id)) ?? []) {
      if (fb.call_id == null || fb.call_id === t.id) links.push({ hour: hourOf(t.started_at), callId: t.id, feedbackId: String(fb.id) });
    }
  }
  return links;
}

export const LINK_SQL = 'INSERT INTO feedback_links (hour, call_id, feedback_id) VALUES (?, ?, ?) ON CONFLICT (hour, call_id, feedback_id) DO NOTHING';

export const MAX_PAGE = 1000;

export function rowToKey(r: Row): KeyRecord {
  const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(r.id),
    name: String(r.name),
    key_hash: String(r.key_hash),
    key_prefix: String(r.key_prefix),
    models: r.models == null ? null : (JSON.parse(String(r.models)) as string[]),
    roles: r.roles == null ? null : (JSON.parse(String(r.roles)) as string[]),
    limits: r.limits == null ? null : ((typeof r.limits === 'string' ? JSON.parse(r.limits) : r.limits) as KeyRecord['limits']),
    metadata: r.metadata == null ? null : (JSON.parse(String(r.metadata)) as Record<string, unknown>),
    created_at: Number(r.created_at),
    expires_at: n(r.expires_at),
    revoked_at: n(r.revoked_at),
    last_used_at: n(r.last_used_at),
    previous_key_hash: r.previous_key_hash == null ? null : String(r.previous_key_hash),
    previous_valid_until: n(r.previous_valid_until),
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

export const AUDIT_COLUMNS = ['id', 'at', 'actor', 'action', 'target', 'details', 'source_ip'] as const;

function rowToAudit(r: Row): AuditEvent {
  return {
    id: String(r.id),
    at: Number(r.at),
    actor: String(r.actor),
    action: String(r.action),
    target: r.target == null ? null : String(r.target),
    details: r.details == null ? null : (JSON.parse(String(r.details)) as Record<string, unknown>),
    source_ip: r.source_ip == null ? null : String(r.source_ip),
  };
}

export const KEY_COLUMNS = [
  'id',
  'name',
  'key_hash',
  'key_prefix',
  'models',
  'roles',
  'limits',
  'metadata',
  'created_at',
  'expires_at',
  'revoked_at',
  'last_used_at',
  'previous_key_hash',
  'previous_valid_until',
] as const satisfies ReadonlyArray<keyof KeyRecord>;

export function keyToRow(k: KeyRecord): unknown[] {
  return KEY_COLUMNS.map((c) => {
    const v = k[c];
    if (c === 'models' || c === 'roles' || c === 'limits' || c === 'metadata') return v === null ? null : JSON.stringify(v);
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
  /** Runs one statement that returns no rows. */
  protected abstract run(q: Sql): Promise<void>;

  abstract migrate(): Promise<void>;
  abstract ping(): Promise<void>;
  abstract writeTraces(batch: readonly StorableTrace[]): Promise<InsertResult>;
  /** One step of {@link deleteTracesBefore}: everything before `before`, in one transaction. */
  protected abstract deleteBefore(before: number): Promise<number>;
  abstract createKey(k: KeyRecord): Promise<void>;
  abstract revokeKey(id: string, at: number): Promise<boolean>;
  abstract touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;
  abstract close(): Promise<void>;

  protected abstract readonly log: Logger;
  rejectedTraces = 0;

  async insertTraces(batch: readonly StorableTrace[]): Promise<void> {
    const { rejected } = await this.writeTraces(batch);
    if (rejected.length === 0) return;
    this.rejectedTraces += rejected.length;
    this.log.error('store: traces refused by the database were skipped', { count: rejected.length, total: this.rejectedTraces, first: rejected[0] });
  }

  async claimInstanceNumber(): Promise<number> {
    const r = await this.one({
      sql: "INSERT INTO counters (name, value) VALUES ('instance', 1) ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
      args: [],
    });
    const n = Number(r?.value);
    if (!Number.isSafeInteger(n)) throw new Error(`store: claiming an instance number returned ${String(r?.value)}`);
    return n;
  }

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

  /**
   * Hours holding traces (within [from, to) when given), newest first, in runs of `size`
   * hours, or growing runs (`grow`: 1, 2, 4, … up to `size`) when told to.
   */
  protected async *hourRuns(opts: { size: number; from?: number; to?: number; grow?: () => boolean }): AsyncGenerator<number[]> {
    const span = await this.timeSpan();
    if (!span) return;
    const newest = hourOf(Math.min(span.hi, (opts.to ?? Infinity) - 1));
    const oldest = hourOf(Math.max(span.lo, opts.from ?? -Infinity));
    let width = opts.grow ? 1 : opts.size;
    for (let h = newest; h >= oldest; ) {
      const run: number[] = [];
      for (let k = 0; k < width && h >= oldest; k++, h -= SLOT_MS) run.push(h);
      yield run;
      if (opts.grow?.()) width = Math.min(opts.size, width * 2);
    }
  }

  /**
   * Newest first; pass `next_cursor` back for the next page. Walks back from the newest
   * hour through the index that fits the filter: hour by hour while matches are plenty,
   * in doubling runs of hours (up to a week) while they are sparse.
   * @example
   * let page = await store.searchTraces({ feature: 'search', status: 'error' }, 50);
   * while (page.next_cursor) page = await store.searchTraces({ feature: 'search', status: 'error' }, 50, page.next_cursor);
   */
  async searchTraces(filter: TraceFilter, limit: number, cursor?: string | null): Promise<TracePage> {
    const n = clampLimit(limit);
    const after: CursorPosition | null = cursor ? decodeCursor(cursor) : null;
    const f = effectiveFilter(filter);
    const rows: Row[] = [];
    let sparse = false;
    const to = Math.min(f.to ?? Infinity, after ? after.startedAt + 1 : Infinity);
    for await (const hours of this.hourRuns({ size: 168, ...(f.from === undefined ? {} : { from: f.from }), to, grow: () => sparse })) {
      const want = n + 1 - rows.length;
      const got = await this.all(searchHoursSql(this.dialect, f, hours, want, after));
      rows.push(...got);
      if (rows.length > n) break;
      sparse = got.length < want;
    }
    const data = rows.slice(0, n).map(rowToTrace);
    const last = data[data.length - 1];
    return { data, next_cursor: rows.length > n && last ? encodeCursor({ startedAt: last.started_at, id: last.id }) : null };
  }

  /** Looks up a call by id, newest hours first (most lookups are of recent calls). */
  async getTrace(id: string): Promise<TraceRecord | undefined> {
    for await (const hours of this.hourRuns({ size: 24 * 64, grow: () => true })) {
      const r = await this.one({ sql: `SELECT ${TRACE_SELECT} FROM traces WHERE ${hourIn(hours)} AND id = ?`, args: [id] });
      if (r) return rowToTrace(r);
    }
    return undefined;
  }

  async getTraceCalls(traceId: string): Promise<TraceRecord[]> {
    const rows: Row[] = [];
    for await (const hours of this.hourRuns({ size: 24 * 7 })) {
      rows.push(...(await this.all({ sql: `SELECT ${TRACE_SELECT} FROM traces WHERE ${hourIn(hours)} AND trace_id = ?`, args: [traceId] })));
    }
    return rows.map(rowToTrace).sort((a, b) => a.started_at - b.started_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Inserts a feedback and attaches it to the calls of its trace already stored (calls
   * written later are attached as they come). It looks for calls after its insert has
   * committed, and the trace writer looks for feedback after its batch has committed (one
   * writer at a time in SQLite), so whichever comes second sees the other: links do not
   * depend on the order, even on several gateways.
   */
  async insertFeedback(f: FeedbackRecord): Promise<void> {
    await this.run({ sql: `INSERT INTO feedback (${FEEDBACK_COLUMNS.join(', ')}) VALUES (${FEEDBACK_COLUMNS.map(() => '?').join(', ')})`, args: FEEDBACK_COLUMNS.map((c) => f[c]) });
    const calls = f.call_id === null ? await this.getTraceCalls(f.trace_id) : [await this.getTrace(f.call_id)].filter((t) => t !== undefined);
    await this.link(calls.map((t) => ({ hour: hourOf(t.started_at), callId: t.id, feedbackId: f.id })));
  }

  private async link(links: readonly FeedbackLink[]): Promise<void> {
    for (const l of links) await this.run({ sql: LINK_SQL, args: [l.hour, l.callId, l.feedbackId] });
  }

  /**
   * Deletes old traces an hour at a time (each hour in its own transaction, with the links,
   * feedback and rollups that go with it), so the write lock it takes against inserts is
   * short even on a first run over months of traces.
   */
  async deleteTracesBefore(before: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const span = await this.timeSpan();
      const cut = span === null ? before : hourOf(span.lo) + SLOT_MS;
      if (cut >= before) return deleted + (await this.deleteBefore(before));
      deleted += await this.deleteBefore(cut);
    }
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
    const totals = { requests: 0, errors: 0, cost_usd: 0, input_tokens: 0, output_tokens: 0, first_seen: Infinity, last_seen: -Infinity };
    const models = new Set<string>();
    for await (const hours of this.hourRuns({ size: 24 * 7 })) {
      const q = summarySql(column, id, hours);
      const [t, m] = await Promise.all([this.one(q.totals), this.all(q.models)]);
      if (!t || Number(t.requests ?? 0) === 0) continue;
      totals.requests += Number(t.requests);
      totals.errors += Number(t.errors ?? 0);
      totals.cost_usd += Number(t.cost_usd ?? 0);
      totals.input_tokens += Number(t.input_tokens ?? 0);
      totals.output_tokens += Number(t.output_tokens ?? 0);
      totals.first_seen = Math.min(totals.first_seen, Number(t.first_seen));
      totals.last_seen = Math.max(totals.last_seen, Number(t.last_seen));
      for (const r of m) models.add(String(r.model));
    }
    if (totals.requests === 0) return undefined;
    return { id, ...totals, models: [...models].sort() };
  }

  sessionSummary(sessionId: string): Promise<SubjectSummary | undefined> {
    return this.summary('session_id', sessionId);
  }

  userSummary(userId: string): Promise<SubjectSummary | undefined> {
    return this.summary('user_id', userId);
  }

  async addReviewItems(items: readonly ReviewItem[]): Promise<void> {
    await review.addReviewItems((q) => this.run(q), items);
  }

  listReviewItems(q: { status?: ReviewItem['status'] | 'all'; limit: number }): Promise<ReviewItem[]> {
    return review.listReviewItems((x) => this.all(x), q);
  }

  getReviewItem(id: string): Promise<ReviewItem | undefined> {
    return review.getReviewItem((x) => this.all(x), id);
  }

  claimReviewItem(id: string, by: string, at: number, staleMs: number): Promise<ReviewItem | undefined> {
    return review.claimReviewItem((x) => this.run(x), (x) => this.all(x), id, by, at, staleMs);
  }

  labelReviewItem(id: string, label: ReviewLabel): Promise<ReviewItem | undefined> {
    return review.labelReviewItem((x) => this.run(x), (x) => this.all(x), id, label);
  }

  async insertAuditEvent(e: AuditEvent): Promise<void> {
    const row = { ...e, details: e.details === null ? null : JSON.stringify(e.details) };
    await this.run({ sql: `INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(() => '?').join(', ')})`, args: AUDIT_COLUMNS.map((c) => row[c]) });
  }

  async listAuditEvents(q: AuditQuery): Promise<AuditEvent[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.action !== undefined) {
      where.push("(action = ? OR action LIKE ? ESCAPE '\\')");
      args.push(q.action, `${q.action.replace(/[\\%_]/g, '\\$&')}.%`);
    }
    if (q.from !== undefined) {
      where.push('at >= ?');
      args.push(q.from);
    }
    if (q.to !== undefined) {
      where.push('at < ?');
      args.push(q.to);
    }
    const rows = await this.all({
      sql: `SELECT ${AUDIT_COLUMNS.join(', ')} FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      args: [...args, q.limit],
    });
    return rows.map(rowToAudit);
  }

  async listFeedback(traceId: string): Promise<FeedbackRecord[]> {
    const rows = await this.all({ sql: `SELECT ${FEEDBACK_COLUMNS.join(', ')} FROM feedback WHERE trace_id = ? ORDER BY created_at, id`, args: [traceId] });
    return rows.map(rowToFeedback);
  }

  async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    // One row at most: the hashes are SHA-256 of random secrets.
    const r = await this.one({ sql: `SELECT ${KEY_COLUMNS.join(', ')} FROM keys WHERE key_hash = ? OR previous_key_hash = ?`, args: [hash, hash] });
    return r ? rowToKey(r) : undefined;
  }

  async rotateKey(id: string, next: { key_hash: string; key_prefix: string; previousValidUntil: number | null }): Promise<boolean> {
    if (!(await this.getKey(id))) return false;
    // The secret being replaced becomes the previous one (one previous at a time), or none.
    await this.run({
      sql: `UPDATE keys SET previous_key_hash = ${next.previousValidUntil === null ? 'NULL' : 'key_hash'}, previous_valid_until = ?, key_hash = ?, key_prefix = ? WHERE id = ?`,
      args: [next.previousValidUntil, next.key_hash, next.key_prefix, id],
    });
    return true;
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const r = await this.one({ sql: `SELECT ${KEY_COLUMNS.join(', ')} FROM keys WHERE id = ?`, args: [id] });
    return r ? rowToKey(r) : undefined;
  }

  async updateKeyLimits(id: string, limits: KeyRecord['limits']): Promise<boolean> {
    if (!(await this.getKey(id))) return false;
    await this.run({ sql: 'UPDATE keys SET limits = ? WHERE id = ?', args: [limits === null ? null : JSON.stringify(limits), id] });
    return true;
  }

  async updateKey(id: string, patch: KeyPatch): Promise<boolean> {
    if (!(await this.getKey(id))) return false;
    const fields = (['name', 'models', 'roles', 'metadata', 'expires_at'] as const).filter((f) => patch[f] !== undefined);
    if (fields.length === 0) return true;
    const value = (f: (typeof fields)[number]): unknown => {
      const v = patch[f];
      return (f === 'models' || f === 'roles' || f === 'metadata') && v !== null ? JSON.stringify(v) : v;
    };
    await this.run({ sql: `UPDATE keys SET ${fields.map((f) => `${f} = ?`).join(', ')} WHERE id = ?`, args: [...fields.map(value), id] });
    return true;
  }

  async listKeys(): Promise<KeyRecord[]> {
    return (await this.all({ sql: `SELECT ${KEY_COLUMNS.join(', ')} FROM keys ORDER BY created_at DESC, id`, args: [] })).map(rowToKey);
  }
}
