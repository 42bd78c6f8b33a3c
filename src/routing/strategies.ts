/**
 * Routing strategies: each orders a route's targets, best first; the executor tries them
 * in that order. A discriminated table, one function per strategy. The request-aware
 * strategies (`cost`, `complexity`) are planned per request in `request-plan.ts`.
 */
import type { Strategy } from '../config/schema.js';
import type { LatencyTracker } from './latency-tracker.js';

export interface OrderableTarget {
  key: string;
  weight: number;
}

export interface StrategyDeps {
  latency: LatencyTracker;
  random: () => number;
}

type Orderer = <T extends OrderableTarget>(targets: readonly T[], deps: StrategyDeps) => T[];

export const STRATEGIES: Record<Strategy, Orderer> = {
  /** Config order. */
  fallback: (targets) => [...targets],

  /** Weighted random order without replacement: the first pick follows the weights, the rest stay as fallbacks. */
  weighted: (targets, { random }) => {
    const pool = [...targets];
    const out: typeof pool = [];
    while (pool.length > 0) {
      const total = pool.reduce((s, t) => s + t.weight, 0);
      let r = random() * total;
      let i = 0;
      for (; i < pool.length - 1; i++) {
        r -= pool[i]!.weight;
        if (r < 0) break;
      }
      out.push(...pool.splice(i, 1));
    }
    return out;
  },

  /** Lowest recent latency first; unmeasured targets first of all, so every target gets measured. */
  latency: (targets, { latency }) =>
    targets
      .map((t, i) => ({ t, i, ms: latency.get(t.key) ?? -1 }))
      .sort((a, b) => a.ms - b.ms || a.i - b.i)
      .map((x) => x.t),

  /**
   * `cost` and `complexity` order per request from the request itself (`request-plan.ts`);
   * for requests that have no plan (embeddings), config order.
   */
  cost: (targets) => [...targets],
  complexity: (targets) => [...targets],
};
