import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../prng.js';
import { histBucket } from './histogram.js';
import { emptySums, HOUR_MS, ROLLUP_DIMS, rollupBatch, type RollupRow, type RollupSource } from './rollup.js';

/** The rollup rows of a batch the plain way: every trace added to every dimension's row, one by one. */
function reference(batch: readonly RollupSource[]): Map<string, RollupRow> {
  const rows = new Map<string, RollupRow>();
  for (const t of batch) {
    const hour = Math.floor(t.started_at / HOUR_MS) * HOUR_MS;
    for (const d of ROLLUP_DIMS) {
      const raw = d.column === null ? '' : t[d.column];
      const present: 0 | 1 = raw === null || raw === undefined ? 0 : 1;
      const value = present ? String(raw) : '';
      const id = [hour, t.kind, d.dim, present, value].join('|');
      let row = rows.get(id);
      if (!row) {
        row = { hour, kind: t.kind, dim: d.dim, present, value, ...emptySums(), lat_hist: d.hist ? [] : null, ttft_hist: d.hist ? [] : null };
        rows.set(id, row);
      }
      row.requests++;
      row.errors += t.status === 'error' ? 1 : 0;
      row.input_tokens += t.input_tokens ?? 0;
      row.output_tokens += t.output_tokens ?? 0;
      row.cached_tokens += t.cached_tokens ?? 0;
      row.reasoning_tokens += t.reasoning_tokens ?? 0;
      row.cost_usd += t.cost_usd ?? 0;
      row.unknown_cost += t.cost_usd === null && t.kind === 'llm' ? 1 : 0;
      row.cache_hits += t.cache_status === 'hit' ? 1 : 0;
      row.cache_misses += t.cache_status === 'miss' ? 1 : 0;
      const lat = histBucket(t.latency_ms);
      const ttft = histBucket(t.ttft_ms);
      if (row.lat_hist && lat !== null) row.lat_hist[lat] = (row.lat_hist[lat] ?? 0) + 1;
      if (row.ttft_hist && ttft !== null) row.ttft_hist[ttft] = (row.ttft_hist[ttft] ?? 0) + 1;
    }
  }
  for (const r of rows.values()) {
    if (r.lat_hist) r.lat_hist = Array.from(r.lat_hist, (n) => n ?? 0);
    if (r.ttft_hist) r.ttft_hist = Array.from(r.ttft_hist, (n) => n ?? 0);
  }
  return rows;
}

/** Traces that share dimension values in runs and switch back and forth, across an hour boundary, with nulls and undefined alike. */
function batchOf(n: number, seed: number): RollupSource[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: RollupSource[] = [];
  let t = { ...base(HOUR_MS * 1000 - 5_000) };
  for (let i = 0; i < n; i++) {
    // Most traces repeat their predecessor's dimensions (as a busy gateway's batches do); some change one.
    if (rnd() < 0.3) {
      const field = pick(['requested_model', 'provider', 'feature', 'user_id', 'key_id', 'environment', 'prompt_version', 'kind'] as const);
      if (field === 'kind') t = { ...t, kind: pick(['llm', 'span'] as const) };
      else t = { ...t, [field]: pick([null, undefined, 'a', 'b', '', '1']) };
    }
    t = {
      ...t,
      started_at: t.started_at + Math.floor(rnd() * 100),
      status: rnd() < 0.1 ? 'error' : 'ok',
      input_tokens: rnd() < 0.1 ? null : Math.floor(rnd() * 1000),
      output_tokens: Math.floor(rnd() * 500),
      cached_tokens: rnd() < 0.5 ? null : 3,
      reasoning_tokens: rnd() < 0.5 ? null : 7,
      cost_usd: rnd() < 0.2 ? null : rnd() / 100,
      cache_status: pick([null, 'hit', 'miss', 'skip']),
      latency_ms: rnd() * 5000,
      ttft_ms: rnd() < 0.5 ? null : rnd() * 800,
    };
    out.push(t);
  }
  return out;
}

function base(startedAt: number): RollupSource {
  return {
    started_at: startedAt,
    kind: 'llm',
    status: 'ok',
    requested_model: 'm',
    provider: 'p',
    feature: null,
    user_id: null,
    key_id: 'k',
    environment: 'production',
    prompt_version: null,
    input_tokens: 1,
    output_tokens: 1,
    cached_tokens: null,
    reasoning_tokens: null,
    cost_usd: 0,
    cache_status: null,
    latency_ms: 1,
    ttft_ms: null,
  };
}

describe('rollupBatch', () => {
  it('sums a batch into the same rows as adding trace by trace, sorted by key', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const batch = batchOf(2_000, seed);
      const got = rollupBatch(batch);
      const want = reference(batch);
      expect(got.length).toBe(want.size);
      for (const row of got) {
        const w = want.get([row.hour, row.kind, row.dim, row.present, row.value].join('|'));
        expect(w, `${row.dim} ${row.value}`).toBeDefined();
        expect({ ...row, cost_usd: 0 }).toEqual({ ...w!, cost_usd: 0 });
        expect(row.cost_usd).toBeCloseTo(w!.cost_usd, 12);
      }
      // Two hours, several kinds and values: more rows than one per dimension, in key order.
      expect(new Set(got.map((r) => r.hour)).size).toBe(2);
      expect(got.length).toBeGreaterThan(ROLLUP_DIMS.length * 2);
      const keys = got.map((r) => [r.dim, r.hour, r.kind, r.present, r.value]);
      expect(keys).toEqual(
        [...keys].sort((a, b) => {
          for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
          return 0;
        }),
      );
    }
  });

  it('keeps groups apart whatever their values hold (separators, prefixes)', () => {
    const a = { ...base(0), feature: 'x\u00011y', user_id: null, key_id: 'k1' };
    // Joined with a separator and a presence prefix, these two would read the same.
    const b = { ...base(1), feature: 'x', user_id: 'y\u00010', key_id: 'k1' };
    const c = { ...base(2), feature: '0', user_id: '1', key_id: 'k2' };
    const d = { ...base(3), feature: null, user_id: '01', key_id: 'k2' };
    const rows = rollupBatch([a, b, c, d, a]);
    const byKey = (dim: string) => rows.filter((r) => r.dim === dim).map((r) => [r.value, r.requests]);
    expect(byKey('key')).toEqual([
      ['k1', 3],
      ['k2', 2],
    ]);
    expect(byKey('feature')).toEqual([
      ['', 1],
      ['0', 1],
      ['x', 1],
      ['x\u00011y', 2],
    ]);
    expect(byKey('user')).toEqual([
      ['', 2],
      ['01', 1],
      ['1', 1],
      ['y\u00010', 1],
    ]);
  });

  it('tells a dimension without a value from one whose value is the empty string', () => {
    const rows = rollupBatch([{ ...base(0), feature: null }, { ...base(1), feature: '' }, { ...base(2), feature: undefined as unknown as null }]);
    const feature = rows.filter((r) => r.dim === 'feature').map((r) => [r.present, r.value, r.requests]);
    expect(feature).toEqual([
      [0, '', 2],
      [1, '', 1],
    ]);
  });
});
