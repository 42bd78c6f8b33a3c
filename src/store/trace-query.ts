/**
 * The SQL both backends run over traces, written once: filter conditions, search pages,
 * the raw aggregates behind metrics and costs, feedback, summaries. Statements use `?`
 * placeholders (PostgreSQL's store numbers them); the few dialect differences (JSON
 * access, lists of ids) are switched on {@link SqlDialect}. Bucket widths and hours are
 * baked in as integer literals so both engines divide integers.
 *
 * Every lookup index but the time index starts with the trace's hour (`hour` column, ms):
 * inserts then touch only the current hour's part of each index, so ingest stays fast as
 * the table grows (random call ids, trace ids, users and sessions would otherwise scatter
 * every batch over the whole of each index). Queries on those indexes name their hours
 * (`hour = h`, `hour IN (…)`), walking back from the newest.
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

export const SLOT_MS = 3_600_000;

/** The `hour` column of a trace: the start of its UTC hour (ms). */
export function hourOf(ms: number): number {
  return Math.floor(ms / SLOT_MS) * SLOT_MS;
}

/** The hours that overlap [from, to), newest first. */
export function hoursOf(from: number, to: number): number[] {
  const out: number[] = [];
  for (let h = hourOf(to - 1); h >= hourOf(from); h -= SLOT_MS) out.push(h);
  return out;
}

/** `hour = h` or `hour IN (…)` for a list of hours (integers, inlined). */
export function hourIn(hours: readonly number[], alias = ''): string {
  if (hours.length === 0) return '1 = 0';
  if (hours.length === 1) return `${alias}hour = ${Math.trunc(hours[0]!)}`;
  return `${alias}hour IN (${hours.map((h) => Math.trunc(h)).join(', ')})`;
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

/** Filter fields with an hour-prefixed index (see the module comment). */
const INDEXED: ReadonlyArray<keyof TraceFilter> = ['model', 'provider', 'keyId', 'user', 'feature', 'session', 'status'];

/** Whether a filter names a column with an hour-prefixed index. */
export function usesHourIndex(f: TraceFilter): boolean {
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

/** Filter conditions for a bounded time range, naming its hours when an hour-prefixed index can serve the filter. */
function rangeConditions(dialect: SqlDialect, filter: TraceFilter, alias = ''): { where: string[]; args: unknown[] } {
  const c = filterConditions(dialect, filter, alias);
  const f = effectiveFilter(filter);
  if (f.from !== undefined && f.to !== undefined && usesHourIndex(f)) c.where.unshift(hourIn(hoursOf(f.from, f.to), alias));
  return c;
}

function whereClause(where: readonly string[]): string {
  return where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
}

/**
 * Part of a search page: the newest `limit` matches within some hours (newest first, as
 * a contiguous run). With one hour the index gives the order; with several the engine
 * sorts what matched, which the caller keeps small by widening only while matches are sparse.
 */
export function searchHoursSql(dialect: SqlDialect, filter: TraceFilter, hours: readonly number[], limit: number, after: CursorPosition | null): Sql {
  const f = effectiveFilter(filter);
  const from = Math.max(f.from ?? -Infinity, Math.min(...hours));
  const to = Math.min(f.to ?? Infinity, Math.max(...hours) + SLOT_MS);
  const { where, args } = filterConditions(dialect, { ...f, from, to });
  where.unshift(hourIn(hours));
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
 * Feedback per (bucket, group, name) over the calls in [from, to) that match the filter,
 * through `feedback_links` (which call each feedback is attached to; see `SqlStore`): a
 * range read of the links' hours, then one primary-key lookup per call. Feedback attached
 * to several calls (trace-level feedback) counts once per (bucket, group). CROSS JOIN
 * fixes the join order in SQLite. Columns: bucket, grp, name, n, total.
 */
export function feedbackSql(dialect: SqlDialect, filter: TraceFilter & { from: number; to: number }, widthMs: number, group: GroupBy | undefined): Sql {
  const { where, args } = filterConditions(dialect, filter, 't.');
  const grp = group ? `t.${GROUP_COLUMN[group]}` : 'NULL';
  return {
    sql: `SELECT bucket, grp, name, count(*) AS n, sum(value_number) AS total FROM (
        SELECT DISTINCT ${bucketExpr('t.started_at', widthMs)} AS bucket, ${grp} AS grp, f.id, f.name, f.value_number
        FROM feedback_links l CROSS JOIN traces t CROSS JOIN feedback f
        WHERE l.hour >= ? AND l.hour <= ? AND t.hour = l.hour AND t.id = l.call_id AND f.id = l.feedback_id
          AND f.value_number IS NOT NULL${where.length > 0 ? ` AND ${where.join(' AND ')}` : ''}
      ) fb GROUP BY bucket, grp, name`,
    args: [hourOf(filter.from), hourOf(filter.to - 1), ...args],
  };
}

/** `column IN (the list)`: one array parameter (PostgreSQL) or one JSON parameter (SQLite). */
function inList(dialect: SqlDialect, column: string, values: readonly string[]): Sql {
  if (dialect === 'postgres') return { sql: `${column} = ANY(?::text[])`, args: [values] };
  return { sql: `${column} IN (SELECT value FROM json_each(?))`, args: [JSON.stringify(values)] };
}

/** Feedback on any of these trace ids (to attach it to calls as they are written). Columns: id, trace_id, call_id. */
export function feedbackOfTracesSql(dialect: SqlDialect, traceIds: readonly string[]): Sql {
  const c = inList(dialect, 'trace_id', traceIds);
  return { sql: `SELECT id, trace_id, call_id FROM feedback WHERE ${c.sql}`, args: c.args };
}

/**
 * The statements of `deleteTracesBefore`, in order, for one transaction: which feedback
 * loses calls (read first), then traces, their links, the feedback left with no call, and
 * whole rollup hours (the hour cut in two, `rebuildHour`, is rebuilt from what it keeps).
 */
export function retentionSql(dialect: SqlDialect, before: number) {
  const h0 = hourOf(before);
  const partial = before > h0;
  return {
    feedbackLosingCalls: {
      sql: `SELECT feedback_id AS id FROM feedback_links WHERE hour < ?${
        partial ? ' UNION SELECT l.feedback_id FROM feedback_links l JOIN traces t ON t.hour = l.hour AND t.id = l.call_id WHERE l.hour = ? AND t.started_at < ?' : ''
      }`,
      args: partial ? [h0, h0, before] : [h0],
    },
    deleteTraces: { sql: 'DELETE FROM traces WHERE started_at < ?', args: [before] },
    deleteLinks: [
      { sql: 'DELETE FROM feedback_links WHERE hour < ?', args: [h0] },
      ...(partial
        ? [{ sql: 'DELETE FROM feedback_links WHERE hour = ? AND NOT EXISTS (SELECT 1 FROM traces t WHERE t.hour = feedback_links.hour AND t.id = feedback_links.call_id)', args: [h0] }]
        : []),
    ],
    deleteUnattachedFeedback(ids: readonly string[]): Sql {
      const c = inList(dialect, 'id', ids);
      return { sql: `DELETE FROM feedback WHERE ${c.sql} AND NOT EXISTS (SELECT 1 FROM feedback_links l WHERE l.feedback_id = feedback.id)`, args: c.args };
    },
    deleteRollups: { sql: 'DELETE FROM trace_rollups WHERE hour < ?', args: [partial ? h0 + SLOT_MS : h0] },
    // A review item is made when its call is recorded: it goes with the call it shows.
    deleteReviewItems: { sql: 'DELETE FROM review_items WHERE created_at < ?', args: [before] },
    rebuildHour: partial ? h0 : null,
  };
}

/** Totals and models of the calls with one column value (session or user summaries), within some hours. */
export function summarySql(column: 'session_id' | 'user_id', id: string, hours: readonly number[]): { totals: Sql; models: Sql } {
  const where = `${hourIn(hours)} AND ${column} = ?`;
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
