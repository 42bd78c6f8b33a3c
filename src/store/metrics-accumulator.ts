/**
 * Folds aggregate rows (from rollups, from raw traces, from feedback) into
 * {@link MetricsPoint}s and {@link CostRow}s, so both backends and both read paths end in
 * the same figures. Percentiles come from the histogram counts (see `histogram.ts`).
 */
import { addToHistogram, type Histogram, percentiles } from './histogram.js';
import { addSums, emptySums, readHist, ROLLUP_SUM_COLUMNS, type RollupSums } from './rollup.js';
import type { CostRow, MetricsPoint } from './types.js';

type Row = Record<string, unknown>;

interface Point {
  bucket: number;
  group: string | null;
  sums: RollupSums;
  latency: Histogram;
  ttft: Histogram;
  feedback: Map<string, { count: number; total: number }>;
}

function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v);
}

function group(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function rowSums(r: Row): RollupSums {
  const s = emptySums();
  for (const c of ROLLUP_SUM_COLUMNS) s[c] = num(r[c]);
  return s;
}

function compareGroups(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

export class MetricsAccumulator {
  private readonly points = new Map<string, Point>();

  private point(bucketValue: unknown, groupValue: unknown): Point {
    const bucket = num(bucketValue);
    const g = group(groupValue);
    const id = `${bucket}\u0001${g === null ? '\u0000' : `s${g}`}`;
    let p = this.points.get(id);
    if (!p) {
      p = { bucket, group: g, sums: emptySums(), latency: new Map(), ttft: new Map(), feedback: new Map() };
      this.points.set(id, p);
    }
    return p;
  }

  /** Rows with bucket, grp, the sums, and (when `latencyHist`) idx = the latency bucket of `requests` calls. */
  addSumRows(rows: readonly Row[], latencyHist: boolean): void {
    for (const r of rows) {
      const p = this.point(r.bucket, r.grp);
      const s = rowSums(r);
      addSums(p.sums, s);
      if (latencyHist) addToHistogram(p.latency, num(r.idx), s.requests);
    }
  }

  /** Rows with bucket, grp, idx (a TTFT bucket) and n. */
  addTtftRows(rows: readonly Row[]): void {
    for (const r of rows) addToHistogram(this.point(r.bucket, r.grp).ttft, num(r.idx), num(r.n));
  }

  /** Rollup rows: bucket, grp, the sums, and the histograms (see `readHist`). */
  addRollupRows(rows: readonly Row[]): void {
    for (const r of rows) {
      const p = this.point(r.bucket, r.grp);
      addSums(p.sums, rowSums(r));
      for (const [column, h] of [
        ['lat_hist', p.latency],
        ['ttft_hist', p.ttft],
      ] as const) {
        const counts = readHist(r[column]);
        if (counts) counts.forEach((n, idx) => n > 0 && addToHistogram(h, idx, n));
      }
    }
  }

  /** Rows with bucket, grp, name, n, total; feedback only adds to points that have calls. */
  addFeedbackRows(rows: readonly Row[]): void {
    for (const r of rows) {
      const p = this.point(r.bucket, r.grp);
      const name = String(r.name);
      const f = p.feedback.get(name) ?? { count: 0, total: 0 };
      f.count += num(r.n);
      f.total += num(r.total);
      p.feedback.set(name, f);
    }
  }

  /** Points with calls, by bucket, then group (null last). */
  metrics(): MetricsPoint[] {
    return [...this.points.values()]
      .filter((p) => p.sums.requests > 0)
      .sort((a, b) => a.bucket - b.bucket || compareGroups(a.group, b.group))
      .map((p) => {
        const [l50, l95, l99] = percentiles(p.latency, [0.5, 0.95, 0.99]);
        const [t50, t95] = percentiles(p.ttft, [0.5, 0.95]);
        const consulted = p.sums.cache_hits + p.sums.cache_misses;
        const feedback: MetricsPoint['feedback'] = {};
        for (const [name, f] of [...p.feedback.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
          feedback[name] = { count: f.count, mean: f.count === 0 ? 0 : f.total / f.count };
        }
        return {
          bucket: p.bucket,
          group: p.group,
          requests: p.sums.requests,
          errors: p.sums.errors,
          input_tokens: p.sums.input_tokens,
          output_tokens: p.sums.output_tokens,
          cached_tokens: p.sums.cached_tokens,
          reasoning_tokens: p.sums.reasoning_tokens,
          cost_usd: p.sums.cost_usd,
          unknown_cost_requests: p.sums.unknown_cost,
          latency_p50_ms: l50 ?? null,
          latency_p95_ms: l95 ?? null,
          latency_p99_ms: l99 ?? null,
          ttft_p50_ms: t50 ?? null,
          ttft_p95_ms: t95 ?? null,
          cache_hit_rate: consulted === 0 ? null : p.sums.cache_hits / consulted,
          feedback,
        };
      });
  }

  /** Totals per group, most expensive first. */
  costs(): CostRow[] {
    return [...this.points.values()]
      .filter((p) => p.sums.requests > 0)
      .sort((a, b) => b.sums.cost_usd - a.sums.cost_usd || b.sums.requests - a.sums.requests || compareGroups(a.group, b.group))
      .map((p) => ({
        group: p.group,
        requests: p.sums.requests,
        input_tokens: p.sums.input_tokens,
        output_tokens: p.sums.output_tokens,
        cost_usd: p.sums.cost_usd,
        unknown_cost_requests: p.sums.unknown_cost,
      }));
  }
}
