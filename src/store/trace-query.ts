/**
 * The SQL both backends run over traces, written once: filter conditions, the search
 * page, and the raw aggregates behind metrics, costs and summaries. Statements use `?`
 * placeholders (PostgreSQL's store numbers them); the few dialect differences (JSON
 * access) are switched on {@link SqlDialect}. Bucket widths and day numbers are baked in
 * as integer literals so both engines divide integers.
 *
 * Every lookup index but the time index starts with the UTC day (`day` column): inserts
 * then touch only the current day's part of each index, so ingest does not slow down as
 * the table grows. Queries on those indexes name their days (`day = d`, `day IN (…)`).
 */
import { LlmopsError } from '../errors.js';
import { TRACE_COLUMNS } from './trace-columns.js';
import type { CursorPosition } from './trace-cursor.js';
import type { Bucket, GroupBy, TraceFilter } from './types.js';

export type SqlDialect = 'sqlite' | 'postgres';

export interface Sql {
  sql: string;
  args: unknown[];
}

export const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export const DAY_MS = 86_400_000;

/** The `day` column of a trace: whole UTC days since the epoch. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** The days that overlap [from, to), newest first. */
export function daysOf(from: number, to: number): number[] {
  const out: number[] = [];
  for (let d = dayOf(to - 1); d >= dayOf(from); d--) out.push(d);
  return out;
}

/** `day IN (…)` for a list of days (integers, inlined). */
export function dayIn(days: readonly number[], alias = ''): string {
  return days.length === 0 ? '1 = 0' : `${alias}day IN (${days.map((d) => Math.trunc(d)).join(', ')})`;
}

/** The trace column each group-by names. */
export const GROUP_COLUMN: Record<GroupBy, string> = {
  model: 'requested_model',
  provider: 'provider',
  feature: 'feature',
  user: 'user_id',
  key: 'key_id',
  environment: 'environment',
  prompt_version: 'prompt_version',
};

/** The record's columns, as selected for {@link rowToTrace} (derived columns left out). */
export const TRACE_SELECT = TRACE_COLUMNS.map((c) => c[0]).join(', ');

/** Filter fields that equal one column. */
const EQUALS: ReadonlyArray<readonly [keyof TraceFilter, string]> = [
  ['kind', 'kind'],
  ['model', 'requested_model'],
  ['provider', 'provider'],
  ['keyId', 'key_id'],
  ['user', 'user_id'],
  ['feature', 'feature'],
  ['session', 'session_id'],
  ['environment', 'environment'],
  ['status', 'status'],
  ['errorCode', 'error_code'],
  ['cacheStatus', 'cache_status'],
];

const TEXT_COLUMNS = ['user_id', 'feature', 'session_id', 'requested_model', 'trace_id', 'name'];

/** Filter fields with a day-prefixed index (see the module comment). */
const INDEXED: ReadonlyArray<keyof TraceFilter> = ['model', 'provider', 'keyId', 'user', 'feature', 'session', 'status'];

/** Whether a filter names a column with a day-prefixed index. */
export function usesDayIndex(f: TraceFilter): boolean {
  return INDEXED.some((k) => f[k] !== undefined);
}

/** A filter with the fields that do not restrict anything (undefined, `{}`, `''`) removed. */
export function effectiveFilter(f: TraceFilter | undefined): TraceFilter {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f ?? {})) {
    if (v === undefined || (k === 'text' && v === '')) continue;
    if (k === 'metadata' && Object.keys(v as object).length === 0) continue;
    out[k] = v;
  }
  return out as TraceFilter;
}

function metadataCondition(dialect: SqlDialect, column: string, key: string, value: string): Sql {
  if (dialect === 'postgres') return { sql: `${column}->>(?::text) = ?`, args: [key, value] };
  if (key.includes('"')) {
    throw new LlmopsError('invalid_request', `metadata filter key ${JSON.stringify(key)} may not contain '"'`, { param: 'metadata' });
  }
  // Compare as text, the way PostgreSQL's ->> reads JSON values (true/false, numbers as written).
  const path = `$."${key}"`;
  return {
    sql: `(CASE json_type(${column}, ?) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(json_extract(${column}, ?) AS TEXT) END) = ?`,
    args: [path, path, value],
  };
}

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The WHERE conditions for a filter (joined with AND by the caller). `alias` prefixes columns (`t.`). */
export function filterConditions(dialect: SqlDialect, filter: TraceFilter | undefined, alias = ''): { where: string[]; args: unknown[] } {
  const f = effectiveFilter(filter);
  const where: string[] = [];
  const args: unknown[] = [];
  const a = alias;
  if (f.from !== undefined) {
    where.push(`${a}started_at >= ?`);
    args.push(f.from);
  }
  if (f.to !== undefined) {
    where.push(`${a}started_at < ?`);
    args.push(f.to);
  }
  for (const [field, column] of EQUALS) {
    const v = f[field];
    if (v === undefined) continue;
    where.push(`${a}${column} = ?`);
    args.push(v);
  }
  if (f.minCostUsd !== undefined) {
    where.push(`${a}cost_usd >= ?`);
    args.push(f.minCostUsd);
  }
  if (f.maxCostUsd !== undefined) {
    where.push(`${a}cost_usd <= ?`);
    args.push(f.maxCostUsd);
  }
  if (f.minLatencyMs !== undefined) {
    where.push(`${a}latency_ms >= ?`);
    args.push(f.minLatencyMs);
  }
  if (f.maxLatencyMs !== undefined) {
    where.push(`${a}latency_ms <= ?`);
    args.push(f.maxLatencyMs);
  }
  for (const [key, value] of Object.entries(f.metadata ?? {})) {
    const c = metadataCondition(dialect, `${a}metadata`, key, String(value));
    where.push(c.sql);
    args.push(...c.args);
  }
  if (f.text !== undefined) {
    const pattern = likePattern(f.text);
    where.push(`(${TEXT_COLUMNS.map((c) => `lower(${a}${c}) LIKE ? ESCAPE '\\'`).join(' OR ')})`);
    for (let i = 0; i < TEXT_COLUMNS.length; i++) args.push(pattern);
  }
  return { where, args };
}

/** Filter conditions for a bounded time range, naming its days when a day-prefixed index can serve the filter. */
function rangeConditions(dialect: SqlDialect, filter: TraceFilter, alias = ''): { where: string[]; args: unknown[] } {
  const c = filterConditions(dialect, filter, alias);
  const f = effectiveFilter(filter);
  if (f.from !== undefined && f.to !== undefined && usesDayIndex(f)) c.where.unshift(dayIn(daysOf(f.from, f.to), alias));
  return c;
}

function whereClause(where: readonly string[]): string {
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
}

/**
 * One day of a search page, newest first, at most `limit` rows. The caller walks the days
 * from the newest, so every query reads one day's part of an index in order.
 */
export function searchDaySql(dialect: SqlDialect, filter: TraceFilter, day: number, limit: number, after: CursorPosition | null): Sql {
  const f = effectiveFilter(filter);
  const from = Math.max(f.from ?? -Infinity, day * DAY_MS);
  const to = Math.min(f.to ?? Infinity, (day + 1) * DAY_MS);
  const { where, args } = filterConditions(dialect, { ...f, from, to });
  where.unshift(`day = ${Math.trunc(day)}`);
  if (after) {
    where.push('(started_at, id) < (?, ?)');
    args.push(after.startedAt, after.id);
  }
  return {
    sql: `SELECT ${TRACE_SELECT} FROM traces ${whereClause(where)} ORDER BY started_at DESC, id DESC LIMIT ?`,
    args: [...args, limit],
  };
}

/** `(started_at / W) * W` for a bucket width, or 0 when not bucketed. */
function bucketExpr(column: string, widthMs: number | null): string {
  return widthMs === null ? '0' : `(${column} / ${Math.trunc(widthMs)}) * ${Math.trunc(widthMs)}`;
}

const UNKNOWN_COST = `CASE WHEN cost_usd IS NULL AND kind = 'llm' THEN 1 ELSE 0 END`;

/**
 * Raw per-(bucket, group, latency bucket) sums over traces; summing the rows of one
 * (bucket, group) gives its totals, and their counts its latency histogram.
 * Columns: bucket, grp, idx, requests, errors, input_tokens, output_tokens, cached_tokens,
 * reasoning_tokens, cost_usd, unknown_cost, cache_hits, cache_misses.
 */
export function rawSumsSql(dialect: SqlDialect, filter: TraceFilter, widthMs: number | null, group: GroupBy | undefined, withHist: boolean): Sql {
  const { where, args } = rangeConditions(dialect, filter);
  const grp = group ? GROUP_COLUMN[group] : 'NULL';
  const idx = withHist ? 'latency_bucket' : '0';
  return {
    sql: `SELECT ${bucketExpr('started_at', widthMs)} AS bucket, ${grp} AS grp, ${idx} AS idx,
      count(*) AS requests,
      sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,
      coalesce(sum(input_tokens), 0) AS input_tokens,
      coalesce(sum(output_tokens), 0) AS output_tokens,
      coalesce(sum(cached_tokens), 0) AS cached_tokens,
      coalesce(sum(reasoning_tokens), 0) AS reasoning_tokens,
      coalesce(sum(cost_usd), 0) AS cost_usd,
      sum(${UNKNOWN_COST}) AS unknown_cost,
      sum(CASE WHEN cache_status = 'hit' THEN 1 ELSE 0 END) AS cache_hits,
      sum(CASE WHEN cache_status = 'miss' THEN 1 ELSE 0 END) AS cache_misses
    FROM traces ${whereClause(where)} GROUP BY 1, 2, 3`,
    args,
  };
}

/** Raw time-to-first-token histogram. Columns: bucket, grp, idx, n. */
export function rawTtftSql(dialect: SqlDialect, filter: TraceFilter, widthMs: number, group: GroupBy | undefined): Sql {
  const { where, args } = rangeConditions(dialect, filter);
  where.push('ttft_bucket IS NOT NULL');
  const grp = group ? GROUP_COLUMN[group] : 'NULL';
  return {
    sql: `SELECT ${bucketExpr('started_at', widthMs)} AS bucket, ${grp} AS grp, ttft_bucket AS idx, count(*) AS n
      FROM traces ${whereClause(where)} GROUP BY 1, 2, 3`,
    args,
  };
}

/**
 * How long before the call it rates a feedback may have been created (clock skew between
 * gateways): feedback is looked up by `created_at`, which keeps the metrics query bounded
 * by the feedback of its time range instead of every feedback ever given.
 */
export const FEEDBACK_SKEW_MS = 3_600_000;

/**
 * Feedback per (bucket, group, name) over the calls in [from, to) that match the filter.
 * Feedback that names a call belongs to that call; otherwise to every call of its trace id,
 * counted once per (bucket, group) it falls in (UNION removes the repeats). The feedback
 * side drives the join (CROSS JOIN fixes the order in SQLite). Columns: bucket, grp, name, n, total.
 */
export function feedbackSql(dialect: SqlDialect, filter: TraceFilter & { from: number; to: number }, widthMs: number, group: GroupBy | undefined): Sql {
  const { where, args } = filterConditions(dialect, filter, 't.');
  const grp = group ? `t.${GROUP_COLUMN[group]}` : 'NULL';
  const days = dayIn(daysOf(filter.from, filter.to), 't.');
  const cond = where.length > 0 ? `AND ${where.join(' AND ')}` : '';
  const pick = `SELECT ${bucketExpr('t.started_at', widthMs)} AS bucket, ${grp} AS grp, f.id, f.name, f.value_number
    FROM feedback f CROSS JOIN traces t WHERE f.created_at >= ? AND f.value_number IS NOT NULL AND ${days}`;
  const since = filter.from - FEEDBACK_SKEW_MS;
  return {
    sql: `SELECT bucket, grp, name, count(*) AS n, sum(value_number) AS total FROM (
        ${pick} AND t.id = f.call_id ${cond}
        UNION
        ${pick} AND f.call_id IS NULL AND t.trace_id = f.trace_id ${cond}
      ) fb GROUP BY bucket, grp, name`,
    args: [since, ...args, since, ...args],
  };
}

/** Totals and models of the calls with one column value (session or user summaries), over the given days. */
export function summarySql(column: 'session_id' | 'user_id', id: string, days: readonly number[]): { totals: Sql; models: Sql } {
  const where = `${dayIn(days)} AND ${column} = ?`;
  return {
    totals: {
      sql: `SELECT count(*) AS requests,
          sum(CASE WHEN status = 'error' THEN 1 ELSE 0 END) AS errors,
          coalesce(sum(cost_usd), 0) AS cost_usd,
          coalesce(sum(input_tokens), 0) AS input_tokens,
          coalesce(sum(output_tokens), 0) AS output_tokens,
          min(started_at) AS first_seen, max(started_at) AS last_seen
        FROM traces WHERE ${where}`,
      args: [id],
    },
    models: {
      sql: `SELECT DISTINCT requested_model AS model FROM traces WHERE ${where} AND requested_model IS NOT NULL ORDER BY 1`,
      args: [id],
    },
  };
}
