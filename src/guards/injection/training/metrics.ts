/** Metrics for a scored, labelled set: balanced accuracy, recall at a false-positive rate, FPR. */

export interface Scored {
  score: number;
  label: 0 | 1;
}

export function balancedAccuracy(rows: readonly Scored[], threshold: number): number {
  let tp = 0, fn = 0, tn = 0, fp = 0;
  for (const r of rows) {
    const flagged = r.score >= threshold;
    if (r.label === 1) flagged ? tp++ : fn++;
    else flagged ? fp++ : tn++;
  }
  const tpr = tp + fn === 0 ? 0 : tp / (tp + fn);
  const tnr = tn + fp === 0 ? 0 : tn / (tn + fp);
  return (tpr + tnr) / 2;
}

/** Share of negatives at or above the threshold. */
export function falsePositiveRate(rows: readonly Scored[], threshold: number): number {
  const negatives = rows.filter((r) => r.label === 0);
  return negatives.length === 0 ? 0 : negatives.filter((r) => r.score >= threshold).length / negatives.length;
}

export function recall(rows: readonly Scored[], threshold: number): number {
  const positives = rows.filter((r) => r.label === 1);
  return positives.length === 0 ? 0 : positives.filter((r) => r.score >= threshold).length / positives.length;
}

/**
 * Recall at the lowest threshold whose false-positive rate is at most `fpr` (ties at a score
 * count as flagged, so the figure never overstates).
 */
export function recallAtFpr(rows: readonly Scored[], fpr: number): { recall: number; threshold: number } {
  const negatives = rows.filter((r) => r.label === 0).map((r) => r.score).sort((a, b) => b - a);
  const allowed = Math.floor(fpr * negatives.length);
  // The threshold must sit above the (allowed+1)-th highest negative score.
  const bar = negatives[allowed];
  const threshold = bar === undefined ? 0 : nextUp(bar);
  return { recall: recall(rows, threshold), threshold };
}

function nextUp(x: number): number {
  return x + Math.max(1e-12, Math.abs(x) * 1e-12);
}

/**
 * The lowest threshold whose false-positive rate on `rows`' negatives is at most `fpr`,
 * rounded up to `decimals` (rounding up never raises the FPR).
 */
export function thresholdAtFpr(rows: readonly Scored[], fpr: number, decimals = 3): number {
  const t = recallAtFpr(rows, fpr).threshold;
  const f = 10 ** decimals;
  return Math.min(1, Math.ceil(t * f) / f);
}

/** The threshold maximizing balanced accuracy (ties: the higher threshold). */
export function bestThreshold(rows: readonly Scored[]): number {
  const candidates = [...new Set(rows.map((r) => r.score))].sort((a, b) => a - b);
  let best = 0.5;
  let bestBa = -1;
  for (const t of candidates) {
    const ba = balancedAccuracy(rows, t);
    if (ba >= bestBa) {
      bestBa = ba;
      best = t;
    }
  }
  return best;
}

/** Nearest-rank percentile of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
}
