/**
 * Test data for the store suite: complete trace records, a seeded mixed dataset, and plain
 * reference implementations (filter, metrics, costs, feedback) the stores are checked against.
 */
import type { FeedbackRecord, GroupBy, KeyRecord, TraceFilter, TraceRecord } from '../../src/store/types.js';
import { mulberry32 } from '../../src/prng.js';

/** 2026-01-05T00:00:00Z, a Monday. */
export const T0 = Date.UTC(2026, 0, 5);
export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const rng = mulberry32;

/** A call with every field set (override any). */
export function fullTrace(over: Partial<TraceRecord> = {}): TraceRecord {
  return {
    id: 'call-full',
    trace_id: 'trace-full',
    parent_id: 'span-parent',
    kind: 'llm',
    name: 'chat gpt-4o',
    source: 'gateway',
    started_at: T0 + 1234,
    endpoint: 'chat',
    environment: 'production',
    key_id: 'key_1',
    user_id: 'user-Ä',
    feature: 'search',
    session_id: 'sess-1',
    requested_model: 'gpt-4o',
    provider: 'openai',
    provider_model: 'gpt-4o-2024-08-06',
    prompt_name: 'summarize',
    prompt_version: '3',
    prompt_variant: 'b',
    request_params: { temperature: 0.2, max_tokens: 256, stop: ['\n\n'], tools: ['lookup'] },
    cache_status: 'miss',
    guardrails: [{ guard: 'pii', stage: 'input', action: 'mask', verdict: 'mask', score: 0.01, masked: { EMAIL_ADDRESS: 2 }, ms: 0.4 }],
    capture: 'redacted',
    input_payload: { model: 'gpt-4o', messages: [{ role: 'user', content: 'héllo "quoted" \\ back\nslash 🎉' }] },
    output_payload: { choices: [{ message: { role: 'assistant', content: 'hi' } }] },
    stream: true,
    status: 'error',
    http_status: 502,
    error_code: 'upstream_error',
    error_message: 'upstream said: 500 "oops"',
    finish_reason: 'stop',
    latency_ms: 812.37,
    ttft_ms: 120.5,
    input_tokens: 1200,
    output_tokens: 80,
    cached_tokens: 1024,
    cache_write_tokens: 16,
    reasoning_tokens: 12,
    tokens_estimated: true,
    usage: { input: 1200, output: 80, cached_input: 1024, cache_write: 16, reasoning: 12 },
    cost_usd: 0.00123456789,
    cost: { input: 0.0004, cached_input: 0.0001, cache_write: 0.00002, output: 0.00071456789, total: 0.00123456789 },
    cost_source: 'provider',
    attempts: [
      { provider: 'azure', model: 'gpt-4o', status: null, latency_ms: 30000, error_code: 'upstream_timeout', error: 'timed out' },
      { provider: 'openai', model: 'gpt-4o', status: 502, latency_ms: 80.1, error_code: 'upstream_error', error: 'bad gateway' },
    ],
    metadata: { tenant: 'acme', tier: 3, beta: true, nested: { a: [1, 2] } },
    attributes: { 'http.route': '/v1/chat/completions', events: [{ name: 'retry' }] },
    ...over,
  };
}

/** A call with every nullable field null. */
export function sparseTrace(over: Partial<TraceRecord> = {}): TraceRecord {
  return {
    id: 'call-sparse',
    trace_id: 'trace-sparse',
    parent_id: null,
    kind: 'span',
    name: null,
    source: 'otlp',
    started_at: T0 + 99,
    endpoint: 'span',
    environment: null,
    key_id: null,
    user_id: null,
    feature: null,
    session_id: null,
    requested_model: null,
    provider: null,
    provider_model: null,
    prompt_name: null,
    prompt_version: null,
    prompt_variant: null,
    request_params: null,
    cache_status: null,
    guardrails: null,
    capture: 'metadata',
    input_payload: null,
    output_payload: null,
    stream: false,
    status: 'ok',
    http_status: 200,
    error_code: null,
    error_message: null,
    finish_reason: null,
    latency_ms: 0,
    ttft_ms: null,
    input_tokens: null,
    output_tokens: null,
    cached_tokens: null,
    cache_write_tokens: null,
    reasoning_tokens: null,
    tokens_estimated: false,
    usage: null,
    cost_usd: null,
    cost: null,
    cost_source: null,
    attempts: [],
    metadata: null,
    attributes: null,
    ...over,
  };
}

const MODELS = [
  ['gpt-4o', 'openai'],
  ['gpt-4o-mini', 'openai'],
  ['claude-haiku', 'anthropic'],
  ['mystery-model', 'local'], // no price: cost unknown
] as const;

/**
 * `n` varied calls from `start` over `spanMs`: several models, providers, features, users,
 * keys, sessions, environments and prompt versions, errors, unknown costs, streams with TTFT,
 * cache hits and misses, and runs of equal timestamps.
 */
export function dataset(n: number, seed = 1, start = T0 + 17 * 60_000, spanMs = 50 * HOUR): TraceRecord[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: TraceRecord[] = [];
  for (let i = 0; i < n; i++) {
    const [model, provider] = pick(MODELS);
    const error = r() < 0.12;
    const stream = r() < 0.4;
    const unknownCost = model === 'mystery-model' || (error && r() < 0.5);
    const latency = Math.round(Math.exp(2 + r() * 7) * 100) / 100; // ~7 ms … ~8 s
    const input = Math.floor(r() * 3000);
    const output = Math.floor(r() * 500);
    // Every 7th call shares the previous call's timestamp (ties for the cursor).
    const startedAt = i % 7 === 6 && out.length ? out[out.length - 1]!.started_at : start + Math.floor(r() * spanMs);
    const trace = fullTrace({
      id: `c${String(i).padStart(5, '0')}-${Math.floor(r() * 1e6).toString(36)}`,
      trace_id: `t${Math.floor(i / 3)}`, // three calls per trace id
      parent_id: null,
      kind: r() < 0.05 ? 'span' : 'llm',
      name: `chat ${model}`,
      started_at: startedAt,
      environment: pick(['production', 'staging', null]),
      key_id: pick(['key_a', 'key_b', 'key_c', null]),
      user_id: pick(['alice', 'bob', 'carol', 'dave', 'Eve_100%', null]),
      feature: pick(['search', 'chat', 'summarize', null]),
      session_id: pick(['s1', 's2', 's3', null]),
      requested_model: model,
      provider,
      provider_model: model,
      prompt_version: pick(['1', '2', null]),
      cache_status: pick(['hit', 'miss', 'skip', null]),
      stream,
      status: error ? 'error' : 'ok',
      http_status: error ? pick([429, 500, 502, 504]) : 200,
      error_code: error ? pick(['upstream_error', 'upstream_timeout']) : null,
      error_message: error ? 'failed' : null,
      latency_ms: latency,
      ttft_ms: stream ? Math.round(latency * (0.1 + r() * 0.5) * 100) / 100 : null,
      input_tokens: input,
      output_tokens: output,
      cached_tokens: Math.floor(input * r() * 0.5),
      reasoning_tokens: Math.floor(output * r() * 0.3),
      cost_usd: unknownCost ? null : Math.round((input * 2.5 + output * 10) * 1e-6 * 1e9) / 1e9,
      metadata: { tenant: pick(['acme', 'globex']), tier: pick([1, 2, 3]), beta: pick([true, false]) },
    });
    out.push(trace);
  }
  return out;
}

/** Newest first, the order of searchTraces. */
export function byNewest(a: TraceRecord, b: TraceRecord): number {
  return b.started_at - a.started_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function metaText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The reference meaning of a {@link TraceFilter}. */
export function matches(t: TraceRecord, f: TraceFilter): boolean {
  if (f.from !== undefined && t.started_at < f.from) return false;
  if (f.to !== undefined && t.started_at >= f.to) return false;
  const eq: Array<[unknown, unknown]> = [
    [f.kind, t.kind],
    [f.model, t.requested_model],
    [f.provider, t.provider],
    [f.keyId, t.key_id],
    [f.user, t.user_id],
    [f.feature, t.feature],
    [f.session, t.session_id],
    [f.environment, t.environment],
    [f.status, t.status],
    [f.errorCode, t.error_code],
    [f.cacheStatus, t.cache_status],
  ];
  for (const [want, have] of eq) if (want !== undefined && want !== have) return false;
  if (f.minCostUsd !== undefined && (t.cost_usd === null || t.cost_usd < f.minCostUsd)) return false;
  if (f.maxCostUsd !== undefined && (t.cost_usd === null || t.cost_usd > f.maxCostUsd)) return false;
  if (f.minLatencyMs !== undefined && t.latency_ms < f.minLatencyMs) return false;
  if (f.maxLatencyMs !== undefined && t.latency_ms > f.maxLatencyMs) return false;
  for (const [k, v] of Object.entries(f.metadata ?? {})) if (metaText(t.metadata?.[k]) !== v) return false;
  if (f.text) {
    const needle = f.text.toLowerCase();
    const hay = [t.user_id, t.feature, t.session_id, t.requested_model, t.trace_id, t.name];
    if (!hay.some((h) => h !== null && h.toLowerCase().includes(needle))) return false;
  }
  return true;
}

const GROUP_FIELD: Record<GroupBy, keyof TraceRecord> = {
  model: 'requested_model',
  provider: 'provider',
  feature: 'feature',
  user: 'user_id',
  key: 'key_id',
  environment: 'environment',
  prompt_version: 'prompt_version',
};

export function groupOf(t: TraceRecord, g: GroupBy | undefined): string | null {
  if (!g) return null;
  const v = t[GROUP_FIELD[g]];
  return v === null ? null : String(v);
}

/** Exact nearest-rank percentile. */
export function exactPercentile(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(q * s.length)) - 1]!;
}

export interface RefPoint {
  bucket: number;
  group: string | null;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  unknown_cost_requests: number;
  latencies: number[];
  ttfts: number[];
  hits: number;
  misses: number;
  feedback: Map<string, Map<string, number>>;
}

function key(bucket: number, group: string | null): string {
  return `${bucket}|${group === null ? '\u0000' : group}`;
}

/** Reference metrics: exact sums and the raw values for percentiles. */
export function referenceMetrics(
  traces: readonly TraceRecord[],
  feedback: readonly FeedbackRecord[],
  q: { from: number; to: number; widthMs: number | null; groupBy?: GroupBy; filter?: TraceFilter },
): Map<string, RefPoint> {
  const f: TraceFilter = { ...q.filter, from: q.from, to: q.to };
  const points = new Map<string, RefPoint>();
  const bucketOf = (t: TraceRecord): number => (q.widthMs === null ? 0 : Math.floor(t.started_at / q.widthMs) * q.widthMs);
  const inScope = traces.filter((t) => matches(t, f));
  for (const t of inScope) {
    const b = bucketOf(t);
    const g = groupOf(t, q.groupBy);
    const k = key(b, g);
    let p = points.get(k);
    if (!p) {
      p = {
        bucket: b,
        group: g,
        requests: 0,
        errors: 0,
        input_tokens: 0,
        output_tokens: 0,
        cached_tokens: 0,
        reasoning_tokens: 0,
        cost_usd: 0,
        unknown_cost_requests: 0,
        latencies: [],
        ttfts: [],
        hits: 0,
        misses: 0,
        feedback: new Map(),
      };
      points.set(k, p);
    }
    p.requests++;
    if (t.status === 'error') p.errors++;
    p.input_tokens += t.input_tokens ?? 0;
    p.output_tokens += t.output_tokens ?? 0;
    p.cached_tokens += t.cached_tokens ?? 0;
    p.reasoning_tokens += t.reasoning_tokens ?? 0;
    if (t.cost_usd === null) {
      if (t.kind === 'llm') p.unknown_cost_requests++;
    } else p.cost_usd += t.cost_usd;
    p.latencies.push(t.latency_ms);
    if (t.ttft_ms !== null) p.ttfts.push(t.ttft_ms);
    if (t.cache_status === 'hit') p.hits++;
    if (t.cache_status === 'miss') p.misses++;
  }
  for (const fb of feedback) {
    if (fb.value_number === null) continue;
    const targets = fb.call_id ? inScope.filter((t) => t.id === fb.call_id) : inScope.filter((t) => t.trace_id === fb.trace_id);
    for (const t of targets) {
      const p = points.get(key(bucketOf(t), groupOf(t, q.groupBy)))!;
      const byName = p.feedback.get(fb.name) ?? new Map<string, number>();
      byName.set(fb.id, fb.value_number);
      p.feedback.set(fb.name, byName);
    }
  }
  return points;
}

export function feedbackFor(traces: readonly TraceRecord[], seed = 7): FeedbackRecord[] {
  const r = rng(seed);
  const out: FeedbackRecord[] = [];
  traces.forEach((t, i) => {
    if (i % 4 !== 0) return;
    const thumbs = r() < 0.6;
    out.push({
      id: `fb-${i}`,
      trace_id: t.trace_id,
      call_id: i % 8 === 0 ? t.id : null,
      name: thumbs ? 'thumbs' : 'rating',
      value_number: thumbs ? (r() < 0.7 ? 1 : 0) : Math.ceil(r() * 5),
      value_string: null,
      value_type: thumbs ? 'boolean' : 'number',
      comment: i % 3 === 0 ? 'nice' : null,
      source: 'user',
      key_id: t.key_id,
      created_at: t.started_at + 5000,
    });
    if (i % 12 === 0) {
      out.push({
        id: `fb-${i}-cat`,
        trace_id: t.trace_id,
        call_id: null,
        name: 'topic',
        value_number: null,
        value_string: 'billing',
        value_type: 'category',
        comment: null,
        source: 'reviewer',
        key_id: null,
        created_at: t.started_at + 6000,
      });
    }
  });
  return out;
}

export function key_(over: Partial<KeyRecord> = {}): KeyRecord {
  return {
    id: 'key_1',
    name: 'search-team',
    key_hash: 'h1',
    key_prefix: 'sk-llmops-AbC1',
    models: ['chat', 'openai/*'],
    roles: ['read'],
    limits: { rpm: 60, budget: { limit_usd: 5, window: 'day' } },
    metadata: { team: 'search', budget: 10 },
    created_at: T0,
    expires_at: T0 + DAY,
    revoked_at: null,
    last_used_at: null,
    previous_key_hash: null,
    previous_valid_until: null,
    ...over,
  };
}
