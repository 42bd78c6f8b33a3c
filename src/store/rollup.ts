/**
 * Hourly rollups that keep metrics and costs fast as traces pile up. Every inserted trace
 * adds to one row per dimension (everything, model, provider, feature, user, key,
 * environment, prompt version) of its hour; except for the user dimension (too many values
 * to be worth it) the row also keeps latency and TTFT histograms, as dense arrays of counts
 * indexed by bucket (int[] in PostgreSQL, JSON in SQLite), added element-wise on upsert.
 * A query over whole hours with at most one dimension (grouped by or filtered on) and
 * `kind` reads this small table; the partial hours at either end, minute buckets and any
 * other filter read the traces themselves. Both paths give the same figures (the shared
 * store suite checks it).
 */
import { histBucket } from './histogram.js';
import type { GroupBy, TraceFilter, TraceRecord } from './types.js';
import { effectiveFilter } from './trace-query.js';

export const HOUR_MS = 3_600_000;

export type RollupDim = 'all' | GroupBy;

interface DimSpec {
  dim: RollupDim;
  column: keyof RollupSource | null;
  /** Whether latency/TTFT histograms are kept (not for users: too many values to be worth it). */
  hist: boolean;
}

export const ROLLUP_DIMS: readonly DimSpec[] = [
  { dim: 'all', column: null, hist: true },
  { dim: 'model', column: 'requested_model', hist: true },
  { dim: 'provider', column: 'provider', hist: true },
  { dim: 'feature', column: 'feature', hist: true },
  { dim: 'user', column: 'user_id', hist: false },
  { dim: 'key', column: 'key_id', hist: true },
  { dim: 'environment', column: 'environment', hist: true },
  { dim: 'prompt_version', column: 'prompt_version', hist: true },
];

const DIM_HAS_HIST = new Map(ROLLUP_DIMS.map((d) => [d.dim, d.hist]));

/** The fields a rollup reads from a trace. */
export type RollupSource = Pick<
  TraceRecord,
  | 'started_at'
  | 'kind'
  | 'status'
  | 'requested_model'
  | 'provider'
  | 'feature'
  | 'user_id'
  | 'key_id'
  | 'environment'
  | 'prompt_version'
  | 'input_tokens'
  | 'output_tokens'
  | 'cached_tokens'
  | 'reasoning_tokens'
  | 'cost_usd'
  | 'cache_status'
  | 'latency_ms'
  | 'ttft_ms'
>;

/** Columns of {@link RollupSource}, for reading traces back when a rollup hour is rebuilt. */
export const ROLLUP_SOURCE_COLUMNS = [
  'started_at',
  'kind',
  'status',
  'requested_model',
  'provider',
  'feature',
  'user_id',
  'key_id',
  'environment',
  'prompt_version',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_usd',
  'cache_status',
  'latency_ms',
  'ttft_ms',
] as const satisfies ReadonlyArray<keyof RollupSource>;

/** Identifies one rollup row. `present` is 0 for calls without the dimension's value (value is then ''). */
export interface RollupKey {
  hour: number;
  kind: string;
  dim: RollupDim;
  present: 0 | 1;
  value: string;
}

export interface RollupSums {
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  unknown_cost: number;
  cache_hits: number;
  cache_misses: number;
}

export const ROLLUP_SUM_COLUMNS = [
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cached_tokens',
  'reasoning_tokens',
  'cost_usd',
  'unknown_cost',
  'cache_hits',
  'cache_misses',
] as const satisfies ReadonlyArray<keyof RollupSums>;

/** Counts indexed by histogram bucket, as stored. */
export type HistCounts = number[];

export interface RollupRow extends RollupKey, RollupSums {
  /** Latency histogram; null for dimensions without histograms. */
  lat_hist: HistCounts | null;
  ttft_hist: HistCounts | null;
}

export function emptySums(): RollupSums {
  return {
    requests: 0,
    errors: 0,
    input_tokens: 0,
    output_tokens: 0,
    cached_tokens: 0,
    reasoning_tokens: 0,
    cost_usd: 0,
    unknown_cost: 0,
    cache_hits: 0,
    cache_misses: 0,
  };
}

export function addSums(into: RollupSums, s: RollupSums): void {
  for (const c of ROLLUP_SUM_COLUMNS) into[c] += s[c];
}

function compareKeys(a: RollupKey, b: RollupKey): number {
  return a.dim < b.dim ? -1 : a.dim > b.dim ? 1 : a.hour - b.hour || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) || a.present - b.present || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
}

/**
 * A trace's value in dimension `i` of {@link ROLLUP_DIMS} (null when it has none), by a
 * function made once from the list: a fixed property read per case, not a lookup by name.
 */
const dimValue = new Function(
  't',
  'i',
  `switch (i) { ${ROLLUP_DIMS.map((d, i) => `case ${i}: return ${d.column === null ? "''" : `t.${d.column} ?? null`};`).join(' ')} }`,
) as (t: RollupSource, i: number) => string | null;

/**
 * What a batch of traces adds to the rollups, summed per row and sorted by key (so that
 * concurrent writers lock rows in one order). Each dimension remembers the row its last
 * trace went to: a trace whose value there is the same (most of a busy gateway's traces
 * share the model, key and environment of the one before) adds to it without building and
 * looking up the row's key.
 */
export function rollupBatch(batch: Iterable<RollupSource>): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  const dims = ROLLUP_DIMS.length;
  const lastRow = new Array<RollupRow | undefined>(dims).fill(undefined);
  const lastValue = new Array<string | null>(dims).fill(null);
  let lastHour = NaN;
  let lastKind = '';
  let prefix = '';
  for (const t of batch) {
    const hour = Math.floor(t.started_at / HOUR_MS) * HOUR_MS;
    if (hour !== lastHour || t.kind !== lastKind) {
      lastHour = hour;
      lastKind = t.kind;
      prefix = `${hour}\u0001${t.kind}\u0001`;
      lastRow.fill(undefined);
    }
    const lat = histBucket(t.latency_ms);
    const ttft = histBucket(t.ttft_ms);
    const status = t.status === 'error' ? 1 : 0;
    const unknown = t.cost_usd === null && t.kind === 'llm' ? 1 : 0;
    const hit = t.cache_status === 'hit' ? 1 : 0;
    const miss = t.cache_status === 'miss' ? 1 : 0;
    for (let i = 0; i < dims; i++) {
      const raw = dimValue(t, i);
      let row = lastRow[i];
      if (row === undefined || lastValue[i] !== raw) {
        const d = ROLLUP_DIMS[i]!;
        const present: 0 | 1 = raw === null ? 0 : 1;
        const value = raw === null ? '' : String(raw);
        // The value last: whatever it holds, the key reads as one row only.
        const id = `${prefix}${d.dim}\u0001${present}${value}`;
        row = rows.get(id);
        if (!row) {
          row = { hour, kind: t.kind, dim: d.dim, present, value, ...emptySums(), lat_hist: d.hist ? [] : null, ttft_hist: d.hist ? [] : null };
          rows.set(id, row);
        }
        lastRow[i] = row;
        lastValue[i] = raw;
      }
      row.requests++;
      row.errors += status;
      row.input_tokens += t.input_tokens ?? 0;
      row.output_tokens += t.output_tokens ?? 0;
      row.cached_tokens += t.cached_tokens ?? 0;
      row.reasoning_tokens += t.reasoning_tokens ?? 0;
      row.cost_usd += t.cost_usd ?? 0;
      row.unknown_cost += unknown;
      row.cache_hits += hit;
      row.cache_misses += miss;
      if (row.lat_hist && lat !== null) row.lat_hist[lat] = (row.lat_hist[lat] ?? 0) + 1;
      if (row.ttft_hist && ttft !== null) row.ttft_hist[ttft] = (row.ttft_hist[ttft] ?? 0) + 1;
    }
  }
  const out = [...rows.values()].sort(compareKeys);
  for (const r of out) {
    // Fill the holes left by sparse assignment: stored arrays are dense.
    if (r.lat_hist) r.lat_hist = Array.from(r.lat_hist, (n) => n ?? 0);
    if (r.ttft_hist) r.ttft_hist = Array.from(r.ttft_hist, (n) => n ?? 0);
  }
  return out;
}

/** Adds two histograms element-wise. */
export function addHist(a: readonly number[], b: readonly number[]): number[] {
  const out = a.length >= b.length ? [...a] : [...b];
  const other = a.length >= b.length ? b : a;
  for (let i = 0; i < other.length; i++) out[i]! += other[i]!;
  return out;
}

/** A stored histogram back as counts: JSON text (SQLite) or an int[] (PostgreSQL). */
export function readHist(v: unknown): number[] | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(Number);
  return (JSON.parse(String(v)) as unknown[]).map(Number);
}

/** SQLite's `llmops_hist_merge(a, b)`: adds two histograms stored as JSON arrays; either may be null. */
export function mergeHistJson(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return JSON.stringify(addHist(JSON.parse(a) as number[], JSON.parse(b) as number[]));
}

/** How one query reads the rollups: which dimension, and which value and kind rows. */
export interface RollupPlan {
  dim: RollupDim;
  /** Only rows of this value (a filter on the dimension). */
  value?: string;
  kind?: string;
  /** Whole hours read from the rollups: [from, to). */
  from: number;
  to: number;
  /** Partial hours read from the traces. */
  edges: Array<{ from: number; to: number }>;
}

const FILTER_DIMS: ReadonlyArray<readonly [keyof TraceFilter, GroupBy]> = [
  ['model', 'model'],
  ['provider', 'provider'],
  ['keyId', 'key'],
  ['user', 'user'],
  ['feature', 'feature'],
  ['environment', 'environment'],
];

/**
 * The rollup plan for a query over [from, to), or null when the rollups cannot answer it
 * (a filter they do not keep, two dimensions at once, less than one whole hour, or
 * percentiles by user).
 */
export function planRollup(from: number, to: number, groupBy: GroupBy | undefined, filter: TraceFilter | undefined, needHist: boolean): RollupPlan | null {
  const f = effectiveFilter(filter);
  let dim: RollupDim = groupBy ?? 'all';
  let value: string | undefined;
  for (const key of Object.keys(f) as Array<keyof TraceFilter>) {
    if (key === 'kind' || key === 'from' || key === 'to') continue;
    const fd = FILTER_DIMS.find(([k]) => k === key);
    if (!fd || value !== undefined) return null;
    if (groupBy !== undefined && groupBy !== fd[1]) return null;
    dim = fd[1];
    value = String(f[key]);
  }
  if (needHist && !DIM_HAS_HIST.get(dim)) return null;
  const start = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const end = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (end <= start) return null;
  const edges: Array<{ from: number; to: number }> = [];
  if (from < start) edges.push({ from, to: start });
  if (end < to) edges.push({ from: end, to });
  return { dim, ...(value === undefined ? {} : { value }), ...(f.kind === undefined ? {} : { kind: f.kind }), from: start, to: end, edges };
}

/** Conditions selecting a plan's rows from a rollup table (`?` placeholders). */
export function rollupConditions(plan: RollupPlan): { where: string[]; args: unknown[] } {
  const where = ['dim = ?', 'hour >= ?', 'hour < ?'];
  const args: unknown[] = [plan.dim, plan.from, plan.to];
  if (plan.kind !== undefined) {
    where.push('kind = ?');
    args.push(plan.kind);
  }
  if (plan.value !== undefined) {
    where.push('present = 1', 'value = ?');
    args.push(plan.value);
  }
  return { where, args };
}

/** The group expression of a rollup query: the value, or NULL for calls without one / ungrouped. */
export function rollupGroupExpr(grouped: boolean): string {
  return grouped ? "CASE WHEN present = 1 THEN value ELSE NULL END" : 'NULL';
}
