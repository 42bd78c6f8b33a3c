/**
 * In-memory limits state for a single gateway instance (the default). Same semantics as
 * the Redis backend: every call is synchronous inside, so check-and-reserve is atomic.
 * Expired entries are swept in the background.
 */
import type {
  Admission,
  AdmitResult,
  BudgetAlert,
  BudgetStatus,
  LimitsState,
  RateStatus,
  Settlement,
  SettleResult,
  SpendProbe,
} from '../state.js';

interface Entry<V> {
  value: V;
  expiresAt: number;
}

const MAX_ALERTS = 100;
const SWEEP_MS = 30_000;

export class MemoryLimitsState implements LimitsState {
  readonly kind = 'memory' as const;
  /** Rate limit key → theoretical arrival time (GCRA). */
  private readonly tats = new Map<string, Entry<number>>();
  /** Calendar budget key → spent. */
  private readonly counters = new Map<string, Entry<number>>();
  /** Rolling budget key → bucket → spent. */
  private readonly rolling = new Map<string, Entry<Map<number, number>>>();
  private readonly flags = new Map<string, Entry<true>>();
  private readonly indexes = new Map<string, Map<string, number>>();
  private readonly alertList: BudgetAlert[] = [];
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly clock: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(this.clock()), SWEEP_MS);
    this.sweeper.unref();
  }

  private live<V>(map: Map<string, Entry<V>>, key: string, now: number): Entry<V> | undefined {
    const e = map.get(key);
    if (e && e.expiresAt <= now) {
      map.delete(key);
      return undefined;
    }
    return e;
  }

  private rollingSum(key: string, bucketMs: number, buckets: number, now: number, prune: boolean): { sum: number; oldest: number; cur: number } {
    const cur = Math.floor(now / bucketMs);
    const e = this.live(this.rolling, key, now);
    let sum = 0;
    let oldest = cur;
    if (e) {
      for (const [b, v] of e.value) {
        if (b <= cur - buckets) {
          if (prune) e.value.delete(b);
        } else {
          sum += v;
          if (b < oldest) oldest = b;
        }
      }
    }
    return { sum, oldest, cur };
  }

  async admit(a: Admission): Promise<AdmitResult> {
    const { now } = a;
    let ok = true;
    const rates: RateStatus[] = [];
    const tats: number[] = [];
    for (const r of a.rates) {
      const t = r.periodMs / r.limit;
      const tat = Math.max(this.live(this.tats, r.key, now)?.value ?? 0, now);
      const next = tat + r.cost * t;
      const diff = next - now;
      if (diff > r.periodMs) {
        ok = false;
        rates.push({ allowed: false, remaining: Math.max(0, Math.floor((r.periodMs - (tat - now)) / t)), resetMs: Math.ceil(tat - now), retryAfterMs: Math.ceil(diff - r.periodMs) });
      } else {
        rates.push({ allowed: true, remaining: Math.floor((r.periodMs - diff) / t), resetMs: Math.ceil(diff), retryAfterMs: 0 });
      }
      tats.push(next);
    }
    const budgets: BudgetStatus[] = [];
    for (const b of a.budgets) {
      let spent: number;
      let retryAfterMs = 0;
      let bucket = 0;
      if (b.bucketMs === 0) {
        spent = this.live(this.counters, b.key, now)?.value ?? 0;
      } else {
        const r = this.rollingSum(b.key, b.bucketMs, b.buckets, now, true);
        spent = r.sum;
        bucket = r.cur;
        retryAfterMs = Math.ceil((r.oldest + b.buckets + 1) * b.bucketMs - now);
      }
      const allowed = spent + a.amountNano <= b.hardNano;
      if (!allowed) ok = false;
      budgets.push({ allowed, spentNano: spent, retryAfterMs, bucket });
    }
    if (ok) {
      a.rates.forEach((r, i) => this.tats.set(r.key, { value: tats[i]!, expiresAt: Math.ceil(tats[i]!) + 1 }));
      a.budgets.forEach((b, i) => {
        if (a.amountNano > 0) {
          if (b.bucketMs === 0) {
            const e = this.live(this.counters, b.key, now);
            this.counters.set(b.key, { value: (e?.value ?? 0) + a.amountNano, expiresAt: now + b.ttlMs });
          } else {
            const e = this.live(this.rolling, b.key, now) ?? { value: new Map<number, number>(), expiresAt: 0 };
            const cur = budgets[i]!.bucket;
            e.value.set(cur, (e.value.get(cur) ?? 0) + a.amountNano);
            e.expiresAt = now + b.ttlMs;
            this.rolling.set(b.key, e);
          }
        }
        if (b.subject === '*') return; // a global budget has one subject: nothing to index
        let idx = this.indexes.get(b.indexKey);
        if (!idx) this.indexes.set(b.indexKey, (idx = new Map()));
        idx.set(b.subject, now);
      });
    }
    return { ok, rates, budgets };
  }

  async settle(s: Settlement): Promise<SettleResult> {
    const { now } = s;
    for (const r of s.rates) {
      if (r.delta === 0) continue;
      const t = r.periodMs / r.limit;
      const tat = this.live(this.tats, r.key, now)?.value;
      const base = tat ?? (r.delta > 0 ? now : undefined);
      if (base === undefined) continue;
      const next = base + r.delta * t;
      if (next <= now) this.tats.delete(r.key);
      else this.tats.set(r.key, { value: next, expiresAt: Math.ceil(next) + 1 });
    }
    const totalsNano: number[] = [];
    const alerted: boolean[] = [];
    for (const b of s.budgets) {
      let total: number;
      if (b.bucketMs === 0) {
        const e = this.live(this.counters, b.key, now);
        if (e) e.value += b.deltaNano;
        else if (b.deltaNano > 0) this.counters.set(b.key, { value: b.deltaNano, expiresAt: now + b.ttlMs });
        total = this.live(this.counters, b.key, now)?.value ?? 0;
      } else {
        const e = this.live(this.rolling, b.key, now);
        if (e && e.value.has(b.bucket)) e.value.set(b.bucket, e.value.get(b.bucket)! + b.deltaNano);
        else if (b.deltaNano > 0) {
          const entry = e ?? { value: new Map<number, number>(), expiresAt: now + b.ttlMs };
          entry.value.set(b.bucket, (entry.value.get(b.bucket) ?? 0) + b.deltaNano);
          this.rolling.set(b.key, entry);
        }
        total = this.rollingSum(b.key, b.bucketMs, b.buckets, now, false).sum;
      }
      let flag = false;
      if (b.softNano > 0 && total >= b.softNano && !this.live(this.flags, b.alertKey, now)) {
        this.flags.set(b.alertKey, { value: true, expiresAt: now + b.ttlMs });
        flag = true;
      }
      totalsNano.push(total);
      alerted.push(flag);
    }
    return { totalsNano, alerted };
  }

  async spend(probes: SpendProbe[], now: number): Promise<number[]> {
    return probes.map((p) => (p.bucketMs === 0 ? (this.live(this.counters, p.key, now)?.value ?? 0) : this.rollingSum(p.key, p.bucketMs, p.buckets, now, false).sum));
  }

  async subjects(indexKey: string, since: number): Promise<string[]> {
    const idx = this.indexes.get(indexKey);
    if (!idx) return [];
    return [...idx].filter(([, at]) => at >= since).map(([s]) => s).sort();
  }

  async pushAlert(alert: BudgetAlert): Promise<void> {
    this.alertList.unshift(alert);
    if (this.alertList.length > MAX_ALERTS) this.alertList.length = MAX_ALERTS;
  }

  async alerts(limit: number): Promise<BudgetAlert[]> {
    return this.alertList.slice(0, limit);
  }

  private sweep(now: number): void {
    for (const map of [this.tats, this.counters, this.rolling, this.flags] as Array<Map<string, Entry<unknown>>>) {
      for (const [k, e] of map) if (e.expiresAt <= now) map.delete(k);
    }
    // Subjects not seen for 35 days (longer than any calendar month) are forgotten.
    for (const idx of this.indexes.values()) for (const [s, at] of idx) if (at < now - 35 * 86_400_000) idx.delete(s);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }
}
