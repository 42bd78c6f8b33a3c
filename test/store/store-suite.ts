/**
 * The one store suite every backend runs (`sqlite.test.ts`, `postgres.test.ts`): round
 * trips, every filter, cursor pagination, metrics and costs against a plain reference
 * (rollup and raw paths alike), summaries, feedback, retention, keys and migrations.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LlmopsError } from '../../src/errors.js';
import type { AuditEvent, GroupBy, MetricsPoint, ReviewItem, Store, TraceFilter, TraceRecord } from '../../src/store/types.js';
import {
  byNewest,
  dataset,
  DAY,
  exactPercentile,
  feedbackFor,
  fullTrace,
  HOUR,
  key_,
  matches,
  referenceMetrics,
  sparseTrace,
  T0,
} from './fixtures.js';

export interface StoreSuiteOptions {
  name: string;
  /** A fresh, empty, migrated store. */
  newStore(): Promise<Store>;
  /** `n` stores on one fresh, empty database, none migrated yet. */
  newSiblingStores(n: number): Promise<Store[]>;
}

/** Percentiles are histogram-based: within 5% of the exact value (plus rounding). */
/** An open review item (flagged by a toxicity guard), with the given identity and time. */
function reviewItem(over: Pick<ReviewItem, 'id' | 'trace_id' | 'call_id' | 'created_at'>): ReviewItem {
  return {
    ...over,
    reason: 'flagged',
    guards: ['toxicity'],
    model: 'chat',
    status: 'open',
    claimed_by: null,
    claimed_at: null,
    label: null,
    category: null,
    note: null,
    labeled_by: null,
    labeled_at: null,
  };
}

function expectNear(actual: number | null, exact: number | null, what: string): void {
  if (exact === null) {
    expect(actual, what).toBeNull();
    return;
  }
  expect(actual, what).not.toBeNull();
  expect(Math.abs(actual! - exact), `${what}: ${actual} vs exact ${exact}`).toBeLessThanOrEqual(exact * 0.05 + 0.01);
}

function checkMetrics(
  got: MetricsPoint[],
  traces: readonly TraceRecord[],
  feedback: Parameters<typeof referenceMetrics>[1],
  q: Parameters<typeof referenceMetrics>[2],
): void {
  const ref = referenceMetrics(traces, feedback, q);
  expect(got.length, 'number of points').toBe(ref.size);
  expect(got.length).toBeGreaterThan(0);
  for (const p of got) {
    const r = ref.get(`${p.bucket}|${p.group === null ? '\u0000' : p.group}`);
    expect(r, `point ${p.bucket} ${p.group}`).toBeDefined();
    if (!r) continue;
    const at = `${new Date(p.bucket).toISOString()} ${p.group}`;
    expect(
      [p.requests, p.errors, p.input_tokens, p.output_tokens, p.cached_tokens, p.reasoning_tokens, p.unknown_cost_requests],
      at,
    ).toEqual([r.requests, r.errors, r.input_tokens, r.output_tokens, r.cached_tokens, r.reasoning_tokens, r.unknown_cost_requests]);
    expect(p.cost_usd, at).toBeCloseTo(r.cost_usd, 9);
    expect(p.cache_hit_rate, at).toBe(r.hits + r.misses === 0 ? null : r.hits / (r.hits + r.misses));
    expectNear(p.latency_p50_ms, exactPercentile(r.latencies, 0.5), `${at} latency p50`);
    expectNear(p.latency_p95_ms, exactPercentile(r.latencies, 0.95), `${at} latency p95`);
    expectNear(p.latency_p99_ms, exactPercentile(r.latencies, 0.99), `${at} latency p99`);
    expectNear(p.ttft_p50_ms, exactPercentile(r.ttfts, 0.5), `${at} ttft p50`);
    expectNear(p.ttft_p95_ms, exactPercentile(r.ttfts, 0.95), `${at} ttft p95`);
    const fb: MetricsPoint['feedback'] = {};
    for (const [name, values] of r.feedback) {
      const vs = [...values.values()];
      fb[name] = { count: vs.length, mean: vs.reduce((a, b) => a + b, 0) / vs.length };
    }
    expect(Object.keys(p.feedback).sort(), at).toEqual(Object.keys(fb).sort());
    for (const [name, v] of Object.entries(fb)) {
      expect(p.feedback[name]!.count, `${at} feedback ${name}`).toBe(v.count);
      expect(p.feedback[name]!.mean, `${at} feedback ${name}`).toBeCloseTo(v.mean, 9);
    }
  }
}

export function runStoreSuite(opts: StoreSuiteOptions): void {
  describe(`store conformance: ${opts.name}`, () => {
    const open: Store[] = [];
    const fresh = async (): Promise<Store> => {
      const s = await opts.newStore();
      open.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    describe('traces', () => {
      it('round-trips every field, set and null', async () => {
        const store = await fresh();
        const full = fullTrace();
        const sparse = sparseTrace();
        await store.insertTraces([full, sparse]);
        expect(await store.getTrace(full.id)).toEqual(full);
        expect(await store.getTrace(sparse.id)).toEqual(sparse);
        expect(await store.getTrace('nope')).toBeUndefined();
        expect(await store.countTraces()).toBe(2);
      });

      it('counts a trace written twice once, in the table and in the aggregates', async () => {
        const store = await fresh();
        const batch = dataset(30, 3);
        await store.insertTraces(batch.slice(0, 20));
        // A retried batch (e.g. after a lost commit acknowledgement) overlaps what is stored.
        await store.insertTraces(batch);
        await store.insertTraces([batch[0]!, batch[0]!]);
        const twin = fullTrace({ id: 'twin', started_at: T0 + 5 });
        await store.insertTraces([twin, twin, ...dataset(600, 4).map((t) => ({ ...t, id: `big-${t.id}` }))]);
        expect(await store.countTraces()).toBe(631);
        const from = T0;
        const to = T0 + 3 * DAY;
        const points = await store.metrics({ from, to, bucket: 'day' });
        expect(points.reduce((a, p) => a + p.requests, 0)).toBe(631);
      });

      it('lists the calls of one trace oldest first, and recent calls by key and time', async () => {
        const store = await fresh();
        const a = fullTrace({ id: 'a', trace_id: 'tr', started_at: T0 + 30, key_id: 'k1' });
        const b = fullTrace({ id: 'b', trace_id: 'tr', started_at: T0 + 10, key_id: 'k2' });
        const c = fullTrace({ id: 'c', trace_id: 'other', started_at: T0 + 20, key_id: 'k1' });
        await store.insertTraces([a, b, c]);
        expect((await store.getTraceCalls('tr')).map((t) => t.id)).toEqual(['b', 'a']);
        expect(await store.getTraceCalls('none')).toEqual([]);
        expect((await store.listTraces({ limit: 10 })).map((t) => t.id)).toEqual(['a', 'c', 'b']);
        expect((await store.listTraces({ limit: 2 })).map((t) => t.id)).toEqual(['a', 'c']);
        expect((await store.listTraces({ limit: 10, since: T0 + 10 })).map((t) => t.id)).toEqual(['a', 'c']);
        expect((await store.listTraces({ limit: 10, keyId: 'k1' })).map((t) => t.id)).toEqual(['a', 'c']);
      });

      it('stores text and payloads with NUL characters instead of failing the batch', async () => {
        const store = await fresh();
        const t = fullTrace({ id: 'nul', error_message: 'bad\u0000byte', input_payload: JSON.stringify({ content: 'a\u0000b \\u0000 \ud800' }) });
        await store.insertTraces([t]);
        const back = await store.getTrace('nul');
        expect(back?.error_message).toMatch(/^bad(\u0000|\ufffd)byte$/);
        const content = (back?.input_payload as { content: string }).content;
        expect(content).toMatch(/^a(\u0000|\ufffd)b \\u0000 (\ud800|\ufffd)$/);
      });
    });

    describe('poison rows', () => {
      // Bug: one row the database refused failed its whole batch on every retry, blocking the writer.
      const poison = (i: number, over: Record<string, unknown>): TraceRecord => ({ ...fullTrace({ id: `bad-${i}`, trace_id: `bad-${i}` }), ...over }) as TraceRecord;

      it('stores the rest of a batch, and lists the rows the database refuses', async () => {
        const store = await fresh();
        const good = dataset(450, 41);
        const batch: TraceRecord[] = [...good];
        batch.splice(3, 0, poison(1, { status: null })); // NOT NULL
        batch.splice(250, 0, poison(2, { metadata: { n: 10n } })); // cannot be serialized
        batch.splice(400, 0, poison(3, { kind: null }));
        const result = await store.writeTraces(batch);
        expect(result.rejected.map((r) => [r.index, r.id])).toEqual([
          [3, 'bad-1'],
          [250, 'bad-2'],
          [400, 'bad-3'],
        ]);
        expect(result.rejected[0]!.message).not.toBe('');
        expect(result.inserted).toBe(good.length);
        expect(await store.countTraces()).toBe(good.length);
        expect(await store.getTrace('bad-1')).toBeUndefined();
        // The rollups hold the stored rows once each, and nothing of the refused ones.
        const points = await store.metrics({ from: T0, to: T0 + 3 * DAY, bucket: 'day' });
        expect(points.reduce((a, p) => a + p.requests, 0)).toBe(good.length);
        // Written again (the writer retrying): nothing new, the same rows refused.
        expect(await store.writeTraces(batch)).toMatchObject({ inserted: 0, rejected: [{ index: 3 }, { index: 250 }, { index: 400 }] });
      });

      it('skips refused rows in insertTraces too, counting them', async () => {
        const store = await fresh();
        await store.insertTraces([fullTrace({ id: 'ok-1' }), poison(1, { status: null }), fullTrace({ id: 'ok-2' })]);
        expect(await store.countTraces()).toBe(2);
        expect(store.rejectedTraces).toBe(1);
        expect((await store.writeTraces([poison(2, { status: null })])).rejected).toHaveLength(1);
      });
    });

    describe('search', () => {
      const data = dataset(240, 11);
      const filters: Array<[string, TraceFilter]> = [
        ['nothing', {}],
        ['time range', { from: T0 + 5 * HOUR, to: T0 + 20 * HOUR }],
        ['from only', { from: T0 + 40 * HOUR }],
        ['kind', { kind: 'span' }],
        ['model', { model: 'gpt-4o-mini' }],
        ['provider', { provider: 'anthropic' }],
        ['key', { keyId: 'key_b' }],
        ['user', { user: 'alice' }],
        ['feature', { feature: 'summarize' }],
        ['session', { session: 's2' }],
        ['environment', { environment: 'staging' }],
        ['status', { status: 'error' }],
        ['error code', { errorCode: 'upstream_timeout' }],
        ['cache status', { cacheStatus: 'hit' }],
        ['cost range', { minCostUsd: 0.002, maxCostUsd: 0.005 }],
        ['min cost', { minCostUsd: 0.006 }],
        ['latency range', { minLatencyMs: 100, maxLatencyMs: 1000 }],
        ['metadata string', { metadata: { tenant: 'acme' } }],
        ['metadata number and boolean', { metadata: { tier: '2', beta: 'true' } }],
        ['metadata missing key', { metadata: { nope: 'x' } }],
        ['text, any case', { text: 'ALI' }],
        ['text over models and trace ids', { text: 'mini' }],
        ['text with LIKE wildcards taken literally', { text: '_100%' }],
        ['text that matches nothing', { text: 'a%c' }],
        ['several at once', { from: T0 + 2 * HOUR, status: 'ok', feature: 'search', provider: 'openai', minLatencyMs: 50, metadata: { tenant: 'globex' } }],
      ];

      it.each(filters)('filters by %s', async (_name, filter) => {
        const store = await fresh();
        await store.insertTraces(data);
        const want = data.filter((t) => matches(t, filter)).sort(byNewest).map((t) => t.id);
        const page = await store.searchTraces(filter, 1000);
        expect(page.data.map((t) => t.id)).toEqual(want);
        expect(page.next_cursor).toBeNull();
      });

      it('pages with a cursor: no duplicates, no gaps, stable across equal timestamps', async () => {
        const store = await fresh();
        const same = Array.from({ length: 30 }, (_, i) => fullTrace({ id: `same-${String(i).padStart(2, '0')}`, started_at: T0 + HOUR }));
        const all = [...data, ...same];
        await store.insertTraces(all);
        for (const filter of [{}, { feature: 'search' }, { from: T0 + HOUR, to: T0 + HOUR + 1 }] as TraceFilter[]) {
          const want = all.filter((t) => matches(t, filter)).sort(byNewest).map((t) => t.id);
          const got: string[] = [];
          let cursor: string | null = null;
          let pages = 0;
          do {
            const page = await store.searchTraces(filter, 7, cursor);
            expect(page.data.length).toBeLessThanOrEqual(7);
            got.push(...page.data.map((t) => t.id));
            cursor = page.next_cursor;
            pages++;
          } while (cursor !== null && pages < 1000);
          expect(got).toEqual(want);
          expect(pages).toBe(Math.max(1, Math.ceil(want.length / 7)));
        }
        // Rows written after a page was read do not disturb the pages that follow.
        const first = await store.searchTraces({}, 5);
        await store.insertTraces([fullTrace({ id: 'late', started_at: T0 + 100 * DAY })]);
        const second = await store.searchTraces({}, 5, first.next_cursor);
        expect(second.data.map((t) => t.id)).toEqual(all.sort(byNewest).slice(5, 10).map((t) => t.id));
      });

      it('rejects a cursor it did not make', async () => {
        const store = await fresh();
        await expect(store.searchTraces({}, 10, 'not-a-cursor')).rejects.toBeInstanceOf(LlmopsError);
        await expect(store.searchTraces({}, 10, Buffer.from('{"a":1}').toString('base64url'))).rejects.toMatchObject({ code: 'invalid_request' });
      });
    });

    describe('metrics and costs', () => {
      const traces = dataset(400, 21);
      const feedback = feedbackFor(traces);
      // Not aligned to hours: the partial hours at both ends are read from the traces.
      const from = T0 + 2 * HOUR + 11 * 60_000;
      const to = T0 + 47 * HOUR + 41 * 60_000;

      const load = async (): Promise<Store> => {
        const store = await fresh();
        for (let i = 0; i < traces.length; i += 64) await store.insertTraces(traces.slice(i, i + 64));
        for (const f of feedback) await store.insertFeedback(f);
        return store;
      };

      it('gives exact sums and close percentiles per hour, for every group-by', async () => {
        const store = await load();
        for (const groupBy of [undefined, 'model', 'provider', 'feature', 'user', 'key', 'environment', 'prompt_version'] as const) {
          const got = await store.metrics({ from, to, bucket: 'hour', ...(groupBy ? { groupBy } : {}) });
          checkMetrics(got, traces, feedback, { from, to, widthMs: HOUR, ...(groupBy ? { groupBy } : {}) });
        }
      });

      it('gives the same figures per minute and per day, and with filters the rollups do not keep', async () => {
        const store = await load();
        const cases: Array<{ bucket: 'minute' | 'day' | 'hour'; width: number; groupBy?: GroupBy; filter?: TraceFilter }> = [
          { bucket: 'minute', width: 60_000, groupBy: 'model' },
          { bucket: 'day', width: DAY, groupBy: 'feature' },
          { bucket: 'day', width: DAY },
          { bucket: 'hour', width: HOUR, groupBy: 'model', filter: { model: 'gpt-4o' } },
          { bucket: 'hour', width: HOUR, filter: { kind: 'llm', provider: 'openai' } },
          { bucket: 'hour', width: HOUR, groupBy: 'key', filter: { status: 'error' } },
          { bucket: 'hour', width: HOUR, groupBy: 'model', filter: { feature: 'search', metadata: { tenant: 'acme' } } },
          { bucket: 'day', width: DAY, groupBy: 'user', filter: { minLatencyMs: 0 } },
        ];
        for (const c of cases) {
          const got = await store.metrics({ from, to, bucket: c.bucket, ...(c.groupBy ? { groupBy: c.groupBy } : {}), ...(c.filter ? { filter: c.filter } : {}) });
          checkMetrics(got, traces, feedback, { from, to, widthMs: c.width, ...(c.groupBy ? { groupBy: c.groupBy } : {}), ...(c.filter ? { filter: c.filter } : {}) });
        }
      });

      it('answers the same from the rollups as from the traces', async () => {
        const store = await load();
        const aligned = { from: T0, to: T0 + 48 * HOUR, bucket: 'hour' as const, groupBy: 'model' as const };
        const fromRollups = await store.metrics(aligned);
        // minLatencyMs: 0 matches every call but is not kept in the rollups: the raw path.
        const fromTraces = await store.metrics({ ...aligned, filter: { minLatencyMs: 0 } });
        expect(fromRollups.length).toBe(fromTraces.length);
        fromRollups.forEach((p, i) => {
          const q = fromTraces[i]!;
          expect({ ...p, cost_usd: 0 }).toEqual({ ...q, cost_usd: 0 });
          expect(p.cost_usd).toBeCloseTo(q.cost_usd, 9);
        });
      });

      it('sums costs per group and counts unknown costs apart, never as 0', async () => {
        const store = await load();
        for (const groupBy of ['feature', 'model', 'user', 'key'] as const) {
          for (const filter of [undefined, { environment: 'production' }, { status: 'ok' as const }]) {
            const got = await store.costs({ from, to, groupBy, ...(filter ? { filter } : {}) });
            const ref = referenceMetrics(traces, [], { from, to, widthMs: null, groupBy, ...(filter ? { filter } : {}) });
            expect(got.length).toBe(ref.size);
            for (const row of got) {
              const r = ref.get(`0|${row.group === null ? '\u0000' : row.group}`)!;
              expect([row.requests, row.input_tokens, row.output_tokens, row.unknown_cost_requests]).toEqual([
                r.requests,
                r.input_tokens,
                r.output_tokens,
                r.unknown_cost_requests,
              ]);
              expect(row.cost_usd).toBeCloseTo(r.cost_usd, 9);
            }
            // Most expensive first.
            expect(got.map((r) => r.cost_usd)).toEqual([...got.map((r) => r.cost_usd)].sort((a, b) => b - a));
          }
        }
        const mystery = (await store.costs({ from, to, groupBy: 'model' })).find((r) => r.group === 'mystery-model')!;
        expect(mystery.cost_usd).toBe(0);
        expect(mystery.unknown_cost_requests).toBe(traces.filter((t) => matches(t, { from, to, model: 'mystery-model', kind: 'llm' })).length);
        expect(mystery.unknown_cost_requests).toBeGreaterThan(0);
      });

      it('returns nothing for a range without calls', async () => {
        const store = await load();
        expect(await store.metrics({ from: T0 + 100 * DAY, to: T0 + 101 * DAY, bucket: 'hour', groupBy: 'model' })).toEqual([]);
        expect(await store.costs({ from: T0 + 100 * DAY, to: T0 + 101 * DAY, groupBy: 'feature' })).toEqual([]);
      });
    });

    describe('summaries', () => {
      it('sums a session and a user', async () => {
        const store = await fresh();
        const data = dataset(120, 5);
        await store.insertTraces(data);
        for (const [get, field, id] of [
          [store.sessionSummary.bind(store), 'session_id', 's2'],
          [store.userSummary.bind(store), 'user_id', 'alice'],
        ] as const) {
          const mine = data.filter((t) => t[field] === id);
          expect(await get(id)).toEqual({
            id,
            requests: mine.length,
            errors: mine.filter((t) => t.status === 'error').length,
            cost_usd: expect.closeTo(mine.reduce((a, t) => a + (t.cost_usd ?? 0), 0), 9),
            input_tokens: mine.reduce((a, t) => a + (t.input_tokens ?? 0), 0),
            output_tokens: mine.reduce((a, t) => a + (t.output_tokens ?? 0), 0),
            first_seen: Math.min(...mine.map((t) => t.started_at)),
            last_seen: Math.max(...mine.map((t) => t.started_at)),
            models: [...new Set(mine.map((t) => t.requested_model!))].sort(),
          });
        }
        expect(await store.sessionSummary('nobody')).toBeUndefined();
        expect(await store.userSummary('nobody')).toBeUndefined();
      });
    });

    describe('feedback', () => {
      it('inserts and lists feedback of a trace, oldest first', async () => {
        const store = await fresh();
        const data = dataset(40, 9);
        await store.insertTraces(data);
        const fb = feedbackFor(data);
        for (const f of [...fb].reverse()) await store.insertFeedback(f);
        const want = fb.filter((f) => f.trace_id === 't0').sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
        expect(want.length).toBeGreaterThan(1);
        expect(await store.listFeedback('t0')).toEqual(want);
        expect(await store.listFeedback('none')).toEqual([]);
        await expect(store.insertFeedback(fb[0]!)).rejects.toThrow();
      });

      it('rolls feedback into metrics per name: count and mean, booleans as 0/1, categories left out', async () => {
        const store = await fresh();
        const a = fullTrace({ id: 'a', trace_id: 'tr', started_at: T0 + 10, requested_model: 'm1' });
        const b = fullTrace({ id: 'b', trace_id: 'tr', started_at: T0 + 20, requested_model: 'm2' });
        await store.insertTraces([a, b]);
        const base = { value_string: null, comment: null, source: 'user' as const, key_id: null, created_at: T0 + 99 };
        await store.insertFeedback({ ...base, id: 'f1', trace_id: 'tr', call_id: 'a', name: 'thumbs', value_number: 1, value_type: 'boolean' });
        await store.insertFeedback({ ...base, id: 'f2', trace_id: 'tr', call_id: 'b', name: 'thumbs', value_number: 0, value_type: 'boolean' });
        await store.insertFeedback({ ...base, id: 'f3', trace_id: 'tr', call_id: null, name: 'rating', value_number: 4, value_type: 'number' });
        await store.insertFeedback({ ...base, id: 'f4', trace_id: 'tr', call_id: null, name: 'topic', value_number: null, value_string: 'x', value_type: 'category' });
        const all = await store.metrics({ from: T0, to: T0 + HOUR, bucket: 'hour' });
        expect(all).toHaveLength(1);
        // Trace-level feedback counts once per point, however many calls the trace has there.
        expect(all[0]!.feedback).toEqual({ rating: { count: 1, mean: 4 }, thumbs: { count: 2, mean: 0.5 } });
        const byModel = await store.metrics({ from: T0, to: T0 + HOUR, bucket: 'hour', groupBy: 'model' });
        expect(byModel.map((p) => [p.group, p.feedback])).toEqual([
          ['m1', { rating: { count: 1, mean: 4 }, thumbs: { count: 1, mean: 1 } }],
          ['m2', { rating: { count: 1, mean: 4 }, thumbs: { count: 1, mean: 0 } }],
        ]);
      });

      it('attaches feedback given before its calls were written (the writer is asynchronous)', async () => {
        const store = await fresh();
        const base = { value_string: null, comment: null, source: 'judge' as const, key_id: null, created_at: T0 };
        await store.insertFeedback({ ...base, id: 'early-call', trace_id: 'tr', call_id: 'b', name: 'score', value_number: 0.5, value_type: 'number' });
        await store.insertFeedback({ ...base, id: 'early-trace', trace_id: 'tr', call_id: null, name: 'thumbs', value_number: 1, value_type: 'boolean' });
        await store.insertTraces([fullTrace({ id: 'a', trace_id: 'tr', started_at: T0 + 10, requested_model: 'm1' })]);
        await store.insertTraces([fullTrace({ id: 'b', trace_id: 'tr', started_at: T0 + 2 * HOUR, requested_model: 'm2' })]);
        const byModel = await store.metrics({ from: T0, to: T0 + 3 * HOUR, bucket: 'day', groupBy: 'model' });
        expect(byModel.map((p) => [p.group, p.feedback])).toEqual([
          ['m1', { thumbs: { count: 1, mean: 1 } }],
          ['m2', { score: { count: 1, mean: 0.5 }, thumbs: { count: 1, mean: 1 } }],
        ]);
      });
    });

    it('links feedback and calls whatever order they are written in concurrently (writer and API on two connections)', async () => {
      const [writer, api] = await opts.newSiblingStores(2);
      open.push(writer!, api!);
      await writer!.migrate();
      const base = { value_string: null, comment: null, source: 'user' as const, key_id: null, created_at: T0, value_type: 'number' as const, value_number: 1 };
      const rounds = 40;
      for (let i = 0; i < rounds; i++) {
        const call = fullTrace({ id: `c${i}`, trace_id: `tr${i}`, started_at: T0 + i * 1000, requested_model: 'm' });
        const fb = { ...base, id: `f${i}`, trace_id: `tr${i}`, call_id: i % 2 ? `c${i}` : null, name: 'score' };
        await Promise.all(i % 3 ? [writer!.insertTraces([call]), api!.insertFeedback(fb)] : [api!.insertFeedback(fb), writer!.insertTraces([call])]);
      }
      const [point] = await api!.metrics({ from: T0, to: T0 + HOUR, bucket: 'hour' });
      expect(point!.feedback).toEqual({ score: { count: rounds, mean: 1 } });
    });

    describe('retention', () => {
      it('deletes traces before a time with their feedback, and aggregates follow', async () => {
        const store = await fresh();
        const traces = dataset(300, 31);
        const feedback = feedbackFor(traces);
        await store.insertTraces(traces);
        for (const f of feedback) await store.insertFeedback(f);
        const before = T0 + 20 * HOUR + 25 * 60_000; // cuts an hour in two
        const gone = traces.filter((t) => t.started_at < before);
        // Review items go with the calls they show (bug: they outlived them).
        const review = (t: TraceRecord): ReviewItem => reviewItem({ id: `review-${t.id}`, trace_id: t.trace_id, call_id: t.id, created_at: t.started_at });
        const stay = traces.find((t) => t.started_at >= before)!;
        await store.addReviewItems([review(gone[0]!), review(gone[gone.length - 1]!), review(stay)]);
        expect(await store.deleteTracesBefore(before)).toBe(gone.length);
        expect((await store.listReviewItems({ status: 'all', limit: 10 })).map((i) => i.call_id)).toEqual([stay.id]);
        const kept = traces.filter((t) => t.started_at >= before);
        expect(await store.countTraces()).toBe(kept.length);
        expect(await store.getTrace(gone[0]!.id)).toBeUndefined();
        // Feedback goes with the last call it is attached to: the call it names, or every call of its trace.
        const keptTraceIds = new Set(kept.map((t) => t.trace_id));
        const keptIds = new Set(kept.map((t) => t.id));
        const stays = (f: (typeof feedback)[number]): boolean => (f.call_id === null ? keptTraceIds.has(f.trace_id) : keptIds.has(f.call_id));
        const keptFeedback = feedback.filter(stays);
        expect(keptFeedback.length).toBeGreaterThan(0);
        expect(keptFeedback.length).toBeLessThan(feedback.length);
        for (const f of feedback) {
          const listed = (await store.listFeedback(f.trace_id)).map((x) => x.id);
          expect(listed.includes(f.id), f.id).toBe(stays(f));
        }
        const q = { from: T0, to: T0 + 60 * HOUR };
        checkMetrics(await store.metrics({ ...q, bucket: 'hour', groupBy: 'model' }), kept, keptFeedback, { ...q, widthMs: HOUR, groupBy: 'model' });
        expect(await store.deleteTracesBefore(before)).toBe(0);
      });

      it('keeps the rollups exact when retention runs twice at once while late calls are written to the hour it cuts', async () => {
        const [a, b, c] = await opts.newSiblingStores(3);
        open.push(a!, b!, c!);
        await a!.migrate();
        const traces = dataset(600, 51, T0, 6 * HOUR);
        await a!.insertTraces(traces);
        const before = T0 + 3 * HOUR + 30 * 60_000;
        // Late spans in the cut hour, after the cut, with values no rollup row has yet.
        const late = Array.from({ length: 40 }, (_, i) =>
          fullTrace({ id: `late-${i}`, kind: 'span', started_at: before + 1000 + i, requested_model: `late-model-${i % 4}`, feature: `late-${i}` }),
        );
        const [d1, d2] = await Promise.all([
          a!.deleteTracesBefore(before),
          b!.deleteTracesBefore(before),
          ...late.map((t, i) => (i % 2 ? c! : a!).insertTraces([t])),
        ]);
        const kept = [...traces.filter((t) => t.started_at >= before), ...late];
        expect(d1! + d2!).toBe(traces.length - kept.length + late.length);
        expect(await a!.countTraces()).toBe(kept.length);
        const q = { from: T0, to: T0 + 7 * HOUR, bucket: 'hour' as const, groupBy: 'model' as const };
        const fromRollups = await a!.metrics(q);
        checkMetrics(fromRollups, kept, [], { from: q.from, to: q.to, widthMs: HOUR, groupBy: 'model' });
        const fromTraces = await a!.metrics({ ...q, filter: { minLatencyMs: 0 } });
        expect(fromRollups.map((p) => [p.bucket, p.group, p.requests])).toEqual(fromTraces.map((p) => [p.bucket, p.group, p.requests]));
      });
    });

    describe('keys', () => {
      it('creates, finds, lists, revokes and touches keys', async () => {
        const store = await fresh();
        const k1 = key_();
        const k2 = key_({ id: 'key_2', name: 'b', key_hash: 'h2', models: null, metadata: null, created_at: T0 + 5, expires_at: null });
        await store.createKey(k1);
        await store.createKey(k2);
        await expect(store.createKey({ ...k2, id: 'key_3' })).rejects.toThrow(); // same hash
        expect(await store.findKeyByHash('h1')).toEqual(k1);
        expect(await store.findKeyByHash('nope')).toBeUndefined();
        expect(await store.getKey('key_2')).toEqual(k2);
        expect(await store.getKey('nope')).toBeUndefined();
        expect((await store.listKeys()).map((k) => k.id)).toEqual(['key_2', 'key_1']);
        expect(await store.revokeKey('key_1', T0 + 7)).toBe(true);
        expect(await store.revokeKey('key_1', T0 + 8)).toBe(false);
        expect(await store.revokeKey('nope', T0 + 8)).toBe(false);
        expect((await store.getKey('key_1'))?.revoked_at).toBe(T0 + 7);
        await store.touchKeys(new Map([['key_1', T0 + 100], ['key_2', T0 + 50]]));
        await store.touchKeys(new Map([['key_1', T0 + 90], ['nope', T0]])); // never moves back
        expect((await store.getKey('key_1'))?.last_used_at).toBe(T0 + 100);
        expect((await store.getKey('key_2'))?.last_used_at).toBe(T0 + 50);
        await store.touchKeys(new Map());
      });

      it('updates and clears a key\'s limits', async () => {
        const store = await fresh();
        await store.createKey(key_({ limits: null }));
        const limits = { rpm: 10, tpm: 1000, budget: { limit_usd: 2.5, window: 'rolling' as const, period: 86_400_000 } };
        expect(await store.updateKeyLimits('key_1', limits)).toBe(true);
        expect((await store.getKey('key_1'))?.limits).toEqual(limits);
        expect((await store.findKeyByHash('h1'))?.limits).toEqual(limits);
        expect(await store.updateKeyLimits('key_1', null)).toBe(true);
        expect((await store.getKey('key_1'))?.limits).toBeNull();
        expect(await store.updateKeyLimits('nope', null)).toBe(false);
      });

      it('rotates a key: the new secret finds it, the old one too while it has a grace period; one previous secret at a time', async () => {
        const store = await fresh();
        const k = key_();
        await store.createKey(k);
        expect(await store.rotateKey('key_1', { key_hash: 'h2', key_prefix: 'sk-llmops-New2', previousValidUntil: T0 + 100 })).toBe(true);
        const after = { ...k, key_hash: 'h2', key_prefix: 'sk-llmops-New2', previous_key_hash: 'h1', previous_valid_until: T0 + 100 };
        expect(await store.findKeyByHash('h2')).toEqual(after);
        expect(await store.findKeyByHash('h1')).toEqual(after);
        expect(await store.rotateKey('key_1', { key_hash: 'h3', key_prefix: 'sk-llmops-New3', previousValidUntil: null })).toBe(true);
        expect(await store.getKey('key_1')).toEqual({ ...k, key_hash: 'h3', key_prefix: 'sk-llmops-New3', previous_key_hash: null, previous_valid_until: null });
        expect(await store.findKeyByHash('h2')).toBeUndefined();
        expect(await store.findKeyByHash('h1')).toBeUndefined();
        expect(await store.rotateKey('nope', { key_hash: 'h4', key_prefix: 'x', previousValidUntil: null })).toBe(false);
      });

      it('updates a key\'s name, models, roles, metadata and expiry, leaving the rest as it was', async () => {
        const store = await fresh();
        const k = key_({ limits: { rpm: 3 } });
        await store.createKey(k);
        expect(await store.updateKey('key_1', { name: 'renamed', models: ['chat', 'openai/*'], roles: ['read'], metadata: { team: 'search' }, expires_at: T0 + 1000 })).toBe(true);
        const want = { ...k, name: 'renamed', models: ['chat', 'openai/*'], roles: ['read'], metadata: { team: 'search' }, expires_at: T0 + 1000 };
        expect(await store.getKey('key_1')).toEqual(want);
        expect(await store.findKeyByHash('h1')).toEqual(want);
        expect(await store.updateKey('key_1', { models: null, metadata: null, expires_at: null })).toBe(true);
        expect(await store.getKey('key_1')).toEqual({ ...want, models: null, metadata: null, expires_at: null });
        expect(await store.updateKey('key_1', {})).toBe(true);
        expect(await store.updateKey('nope', { name: 'x' })).toBe(false);
      });
    });

    describe('review queue', () => {
      it('adds items idempotently, lists open ones, claims one reviewer at a time, labels once', async () => {
        const s = await fresh();
        const item = (id: string, at: number): ReviewItem => reviewItem({ id, trace_id: `t-${id}`, call_id: `c-${id}`, created_at: at });
        await s.addReviewItems([item('a', 1000), item('b', 2000)]);
        await s.addReviewItems([item('a', 1000)]);
        expect((await s.listReviewItems({ limit: 10 })).map((i) => i.id)).toEqual(['a', 'b']);
        expect(await s.getReviewItem('a')).toEqual(item('a', 1000));
        expect(await s.claimReviewItem('a', 'r1', 5000, 60_000)).toMatchObject({ status: 'claimed', claimed_by: 'r1' });
        expect(await s.claimReviewItem('a', 'r2', 6000, 60_000)).toMatchObject({ claimed_by: 'r1' });
        expect(await s.claimReviewItem('a', 'r2', 70_000, 60_000)).toMatchObject({ claimed_by: 'r2' }); // stale claim taken over
        expect(await s.labelReviewItem('a', { label: 'bad', category: 'tone', note: 'rude', by: 'r1', at: 71_000 })).toMatchObject({ status: 'claimed' });
        expect(await s.labelReviewItem('a', { label: 'bad', category: 'tone', note: 'rude', by: 'r2', at: 72_000 })).toMatchObject({
          status: 'labeled',
          label: 'bad',
          category: 'tone',
          note: 'rude',
          labeled_by: 'r2',
          labeled_at: 72_000,
        });
        expect((await s.listReviewItems({ limit: 10 })).map((i) => i.id)).toEqual(['b']);
        expect((await s.listReviewItems({ status: 'labeled', limit: 10 })).map((i) => i.id)).toEqual(['a']);
        expect(await s.claimReviewItem('nope', 'r1', 1, 1)).toBeUndefined();
      });
    });

    describe('audit log', () => {
      it('keeps events with their details, lists them newest first, by action or family and time', async () => {
        const s = await fresh();
        const ev = (id: string, at: number, action: string, details: Record<string, unknown> | null = null): AuditEvent => ({
          id,
          at,
          actor: 'admin',
          action,
          target: action.startsWith('key') ? 'key_1' : null,
          details,
          source_ip: '127.0.0.1',
        });
        await s.insertAuditEvent(ev('a', 1000, 'key.create', { name: 'ci', models: ['chat'] }));
        await s.insertAuditEvent(ev('b', 2000, 'config.reload', { applied: ['models'], restart_required: [] }));
        await s.insertAuditEvent(ev('c', 3000, 'key.revoke'));
        await s.insertAuditEvent(ev('d', 3000, 'config.reload_failed', { error: "50% 'quoted' \\ text" }));
        expect((await s.listAuditEvents({ limit: 10 })).map((e) => e.id)).toEqual(['d', 'c', 'b', 'a']);
        expect(await s.listAuditEvents({ action: 'key.create', limit: 10 })).toEqual([ev('a', 1000, 'key.create', { name: 'ci', models: ['chat'] })]);
        expect((await s.listAuditEvents({ action: 'key', limit: 10 })).map((e) => e.id)).toEqual(['c', 'a']);
        expect((await s.listAuditEvents({ action: 'config', limit: 10 })).map((e) => e.id)).toEqual(['d', 'b']);
        expect(await s.listAuditEvents({ action: 'conf', limit: 10 })).toEqual([]);
        expect(await s.listAuditEvents({ action: 'key_', limit: 10 })).toEqual([]);
        expect((await s.listAuditEvents({ from: 2000, to: 3000, limit: 10 })).map((e) => e.id)).toEqual(['b']);
        expect((await s.listAuditEvents({ limit: 2 })).map((e) => e.id)).toEqual(['d', 'c']);
        expect((await s.listAuditEvents({ action: 'config.reload_failed', limit: 1 }))[0]!.details).toEqual({ error: "50% 'quoted' \\ text" });
        // Trace retention leaves the audit log alone.
        await s.deleteTracesBefore(10_000);
        expect(await s.listAuditEvents({ limit: 10 })).toHaveLength(4);
      });
    });

    describe('migrations', () => {
      it('survives several instances migrating one database at once', async () => {
        const stores = await opts.newSiblingStores(4);
        open.push(...stores);
        await Promise.all(stores.map((s) => s.migrate()));
        await Promise.all(stores.map((s) => s.migrate())); // again: nothing to do
        await stores[0]!.insertTraces([fullTrace()]);
        for (const s of stores) expect(await s.getTrace('call-full')).toEqual(fullTrace());
        await stores[1]!.ping();
      });
    });

    describe('instance numbers', () => {
      it('gives every gateway on one database its own number, also when they start at once', async () => {
        const stores = await opts.newSiblingStores(3);
        open.push(...stores);
        await Promise.all(stores.map((s) => s.migrate()));
        const claimed = await Promise.all([...stores, ...stores].map((s) => s.claimInstanceNumber()));
        expect([...claimed].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
        expect(await stores[0]!.claimInstanceNumber()).toBe(7);
      });
    });
  });
}
