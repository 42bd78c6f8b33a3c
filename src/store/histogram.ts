/**
 * Log-spaced histogram buckets for latency and time to first token. Each trace stores its
 * bucket index (computed once, at insert); aggregates count traces per bucket with GROUP BY
 * and percentiles are read off the counts here. Buckets grow by 10%, and a percentile is
 * reported as its bucket's geometric middle, so it is within 5% of the exact value
 * (nearest-rank definition) for anything above {@link HIST_MIN_MS}.
 */

/** Values at or below this (ms) share bucket 0. */
export const HIST_MIN_MS = 0.1;
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);
const MID = Math.sqrt(GROWTH);

/** The bucket index of a value in ms (null stays null). */
export function histBucket(ms: number | null): number | null {
  if (ms === null || !Number.isFinite(ms)) return null;
  if (ms <= HIST_MIN_MS) return 0;
  return 1 + Math.floor(Math.log(ms / HIST_MIN_MS) / LOG_GROWTH);
}

/** The value a bucket stands for: the geometric middle of its range. */
export function histValue(index: number): number {
  if (index <= 0) return HIST_MIN_MS / 2;
  return HIST_MIN_MS * GROWTH ** (index - 1) * MID;
}

/** Bucket index → count. */
export type Histogram = Map<number, number>;

export function addToHistogram(h: Histogram, index: number, count: number): void {
  h.set(index, (h.get(index) ?? 0) + count);
}

/**
 * Nearest-rank percentiles (`qs` in 0..1) from a histogram, rounded to 0.01 ms; null for
 * an empty histogram.
 */
export function percentiles(h: Histogram, qs: readonly number[]): Array<number | null> {
  let total = 0;
  for (const n of h.values()) total += n;
  if (total === 0) return qs.map(() => null);
  const sorted = [...h.entries()].sort((a, b) => a[0] - b[0]);
  return qs.map((q) => {
    const rank = Math.max(1, Math.ceil(q * total));
    let seen = 0;
    for (const [index, n] of sorted) {
      seen += n;
      if (seen >= rank) return Math.round(histValue(index) * 100) / 100;
    }
    return Math.round(histValue(sorted[sorted.length - 1]![0]) * 100) / 100;
  });
}
