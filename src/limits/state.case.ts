/**
 * The shared conformance suite for limits state backends: the memory backend and the Redis
 * backend (against a real Redis) must behave the same. Times are passed explicitly, so
 * the suite simulates minutes without waiting.
 */
import { describe, expect, it } from 'vitest';
import type { Admission, BudgetAdjust, BudgetCharge, LimitsState } from './state.js';

export interface StateFactory {
  /** A fresh, empty state (unique key space). */
  make(): Promise<LimitsState>;
}

const T0 = 1_800_000_000_000;

function rate(key: string, limit: number, cost = 1) {
  return { key, limit, periodMs: 60_000, cost };
}

function budget(key: string, hardNano: number, rolling?: { bucketMs: number; buckets: number }): BudgetCharge {
  return { key, indexKey: `idx:${key}`, subject: `s-${key}`, hardNano, bucketMs: rolling?.bucketMs ?? 0, buckets: rolling?.buckets ?? 0, ttlMs: 3_600_000 };
}

function adj(b: BudgetCharge, bucket: number, deltaNano: number, softNano = 0): BudgetAdjust {
  return { key: b.key, bucketMs: b.bucketMs, buckets: b.buckets, bucket, deltaNano, softNano, alertKey: `alert:${b.key}`, ttlMs: b.ttlMs };
}

const admission = (now: number, parts: Partial<Admission>): Admission => ({ now, rates: [], budgets: [], amountNano: 0, ...parts });

export function runLimitsStateSuite(name: string, factory: StateFactory): void {
  describe(`limits state: ${name}`, () => {
    it('GCRA: allows the limit per period, then refuses with a retry-after, and refills smoothly', async () => {
      const s = await factory.make();
      const r = rate('rpm', 3);
      for (let i = 0; i < 3; i++) {
        const res = await s.admit(admission(T0, { rates: [r] }));
        expect(res.ok).toBe(true);
        expect(res.rates[0]!.remaining).toBe(2 - i);
      }
      const denied = await s.admit(admission(T0, { rates: [r] }));
      expect(denied.ok).toBe(false);
      expect(denied.rates[0]).toMatchObject({ allowed: false, remaining: 0 });
      expect(denied.rates[0]!.retryAfterMs).toBe(20_000);
      expect(denied.rates[0]!.resetMs).toBe(60_000);
      // One emission interval later exactly one more request fits.
      expect((await s.admit(admission(T0 + 20_000, { rates: [r] }))).ok).toBe(true);
      expect((await s.admit(admission(T0 + 20_000, { rates: [r] }))).ok).toBe(false);
      // After a full idle minute the whole allowance is back.
      const later = await s.admit(admission(T0 + 200_000, { rates: [r] }));
      expect(later.rates[0]).toMatchObject({ allowed: true, remaining: 2, resetMs: 20_000 });
      await s.close();
    });

    it('is all or nothing: a refused limit consumes nothing from the others', async () => {
      const s = await factory.make();
      const a = rate('a', 10);
      const b = rate('b', 1);
      const bud = budget('bud', 1000);
      expect((await s.admit(admission(T0, { rates: [a, b], budgets: [bud], amountNano: 100 }))).ok).toBe(true);
      const res = await s.admit(admission(T0, { rates: [a, b], budgets: [bud], amountNano: 100 }));
      expect(res.ok).toBe(false);
      expect(res.rates.map((x) => x.allowed)).toEqual([true, false]);
      expect(res.budgets[0]).toMatchObject({ allowed: true, spentNano: 100 });
      expect((await s.admit(admission(T0, { rates: [a] }))).rates[0]!.remaining).toBe(8);
      expect(await s.spend([bud], T0)).toEqual([100]);
      await s.close();
    });

    it('charges token costs and gives back unused tokens on settle', async () => {
      const s = await factory.make();
      const tpm = { key: 'tpm', limit: 1000, periodMs: 60_000, cost: 800 };
      expect((await s.admit(admission(T0, { rates: [tpm] }))).rates[0]!.remaining).toBe(200);
      expect((await s.admit(admission(T0, { rates: [{ ...tpm, cost: 300 }] }))).ok).toBe(false);
      await s.settle({ now: T0, rates: [{ key: 'tpm', limit: 1000, periodMs: 60_000, delta: -700 }], budgets: [] });
      const res = await s.admit(admission(T0, { rates: [{ ...tpm, cost: 300 }] }));
      expect(res.ok).toBe(true);
      expect(res.rates[0]!.remaining).toBe(600);
      await s.close();
    });

    it('reserves budget atomically: concurrent admissions never exceed the hard limit', async () => {
      const s = await factory.make();
      const b = budget('conc', 10_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => s.admit(admission(T0, { budgets: [b], amountNano: 1000 }))));
      expect(results.filter((r) => r.ok)).toHaveLength(10);
      const refused = results.find((r) => !r.ok)!;
      expect(refused.budgets[0]).toMatchObject({ allowed: false, spentNano: 10_000 });
      expect(await s.spend([b], T0)).toEqual([10_000]);
      await s.close();
    });

    it('settles to the real cost: releases the unused reservation, adds an overrun, never goes negative', async () => {
      const s = await factory.make();
      const b = budget('settle', 10_000);
      await s.admit(admission(T0, { budgets: [b], amountNano: 5000 }));
      let r = await s.settle({ now: T0, rates: [], budgets: [adj(b, 0, -3000)] });
      expect(r.totalsNano).toEqual([2000]);
      r = await s.settle({ now: T0, rates: [], budgets: [adj(b, 0, 500)] });
      expect(r.totalsNano).toEqual([2500]);
      // A release for a counter that no longer exists (window over) must not create a negative one.
      const gone = budget('gone', 10_000);
      r = await s.settle({ now: T0, rates: [], budgets: [adj(gone, 0, -3000)] });
      expect(r.totalsNano).toEqual([0]);
      expect(await s.spend([gone], T0)).toEqual([0]);
      await s.close();
    });

    it('rolling windows: spend slides out after the period', async () => {
      const s = await factory.make();
      const b = budget('roll', 3000, { bucketMs: 1000, buckets: 60 });
      const first = await s.admit(admission(T0, { budgets: [b], amountNano: 2000 }));
      expect(first.ok).toBe(true);
      expect(first.budgets[0]!.bucket).toBe(Math.floor(T0 / 1000));
      await s.admit(admission(T0 + 30_000, { budgets: [b], amountNano: 1000 }));
      const refused = await s.admit(admission(T0 + 40_000, { budgets: [b], amountNano: 1000 }));
      expect(refused.ok).toBe(false);
      expect(refused.budgets[0]!.spentNano).toBe(3000);
      expect(refused.budgets[0]!.retryAfterMs).toBeGreaterThan(0);
      expect(refused.budgets[0]!.retryAfterMs).toBeLessThanOrEqual(22_000);
      expect(await s.spend([b], T0 + 61_500)).toEqual([1000]);
      expect((await s.admit(admission(T0 + 61_500, { budgets: [b], amountNano: 2000 }))).ok).toBe(true);
      // Settling goes to the bucket the reservation was made in.
      const r = await s.settle({ now: T0 + 61_500, rates: [], budgets: [adj(b, Math.floor((T0 + 61_500) / 1000), -1500)] });
      expect(r.totalsNano).toEqual([1500]);
      await s.close();
    });

    it('flags a soft-threshold crossing once per window', async () => {
      const s = await factory.make();
      const b = budget('soft', 10_000);
      await s.admit(admission(T0, { budgets: [b], amountNano: 7000 }));
      let r = await s.settle({ now: T0, rates: [], budgets: [adj(b, 0, 0, 8000)] });
      expect(r.alerted).toEqual([false]);
      await s.admit(admission(T0, { budgets: [b], amountNano: 2000 }));
      r = await s.settle({ now: T0, rates: [], budgets: [adj(b, 0, 0, 8000)] });
      expect(r).toEqual({ totalsNano: [9000], alerted: [true] });
      r = await s.settle({ now: T0, rates: [], budgets: [adj(b, 0, 0, 8000)] });
      expect(r.alerted).toEqual([false]);
      await s.close();
    });

    it('indexes budget subjects and keeps alerts newest first', async () => {
      const s = await factory.make();
      const b1 = { ...budget('u1', 10_000), indexKey: 'idx:users', subject: 'alice' };
      const b2 = { ...budget('u2', 10_000), indexKey: 'idx:users', subject: 'bob' };
      await s.admit(admission(T0, { budgets: [b1], amountNano: 1 }));
      await s.admit(admission(T0 + 1000, { budgets: [b2], amountNano: 1 }));
      expect(await s.subjects('idx:users', T0)).toEqual(['alice', 'bob']);
      expect(await s.subjects('idx:users', T0 + 500)).toEqual(['bob']);
      const alert = { at: T0, budget: 'b', scope: 'user', subject: 'alice', window: '2027-01-15', spent_usd: 4, limit_usd: 5, threshold: 0.8, message: 'm1' };
      await s.pushAlert(alert);
      await s.pushAlert({ ...alert, message: 'm2' });
      expect((await s.alerts(10)).map((a) => a.message)).toEqual(['m2', 'm1']);
      await s.close();
    });
  });
}
