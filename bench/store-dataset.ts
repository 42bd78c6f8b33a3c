/**
 * A deterministic stream of realistic traces for the store benchmark: eight models over four
 * providers (two without a price, so their cost is unknown), a dozen features, hundreds of
 * users and sessions, dozens of keys, ~3% errors, streams with TTFT, cache hits, metadata,
 * and request/answer payloads of typical size. Time runs forward from 30 days before the
 * anchor; the last 24 hours hold a larger share, as live traffic does.
 */
import type { FeedbackRecord, TraceRecord } from '../src/store/types.js';
import { IdGenerator } from '../src/ids.js';
import { mulberry32 } from '../src/prng.js';

export interface DatasetSpec {
  traces: number;
  /** The dataset's "now" (ms); queries are relative to it. */
  anchor: number;
  seed: number;
  /** Share of traces in the last 24 hours (the rest spread over the 29 days before). */
  lastDayShare: number;
}

const DAY = 86_400_000;

const MODELS: ReadonlyArray<{ model: string; provider: string; inPrice: number | null; outPrice: number | null; weight: number }> = [
  { model: 'gpt-4o-mini', provider: 'openai', inPrice: 0.15, outPrice: 0.6, weight: 30 },
  { model: 'gpt-4o', provider: 'openai', inPrice: 2.5, outPrice: 10, weight: 12 },
  { model: 'claude-haiku-4-5', provider: 'anthropic', inPrice: 1, outPrice: 5, weight: 15 },
  { model: 'claude-sonnet-4-5', provider: 'anthropic', inPrice: 3, outPrice: 15, weight: 8 },
  { model: 'gemini-2.5-flash', provider: 'gemini', inPrice: 0.3, outPrice: 2.5, weight: 15 },
  { model: 'gemini-2.5-pro', provider: 'gemini', inPrice: 1.25, outPrice: 10, weight: 5 },
  { model: 'llama-3.1-8b', provider: 'vllm', inPrice: null, outPrice: null, weight: 10 },
  { model: 'qwen-2.5-32b', provider: 'vllm', inPrice: null, outPrice: null, weight: 5 },
];
const MODEL_WEIGHT_TOTAL = MODELS.reduce((a, m) => a + m.weight, 0);

const FEATURES = ['search', 'chat', 'summarize', 'classify', 'extract', 'translate', 'agent', 'autocomplete', 'support', 'rag', 'email-draft', 'moderation'];
const ENVIRONMENTS = ['production', 'production', 'production', 'staging'];
const TENANTS = Array.from({ length: 20 }, (_, i) => `tenant-${i}`);
const WORDS =
  'the a report customer order invoice please summarize explain translate into french list steps why how when where data model query table result error retry user account shipping refund policy contract clause section meeting notes action items deadline budget forecast revenue quarter growth risk'.split(
    ' ',
  );

const rng = mulberry32;

/** Ready-made payload texts (JSON), so generating a trace costs little next to storing it. */
function payloads(r: () => number): { inputs: string[]; outputs: string[] } {
  const sentence = (n: number): string => Array.from({ length: n }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
  const inputs: string[] = [];
  const outputs: string[] = [];
  for (let i = 0; i < 256; i++) {
    inputs.push(
      JSON.stringify({
        model: 'x',
        messages: [
          { role: 'system', content: `You are a helpful assistant. ${sentence(10 + Math.floor(r() * 30))}` },
          { role: 'user', content: sentence(40 + Math.floor(r() * 200)) },
        ],
        temperature: 0.2,
      }),
    );
    outputs.push(
      JSON.stringify({
        id: `chatcmpl-${i}`,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: sentence(20 + Math.floor(r() * 120)) } }],
      }),
    );
  }
  return { inputs, outputs };
}

/** Yields the traces in time order (the order a gateway writes them). */
export function* generateTraces(spec: DatasetSpec): Generator<TraceRecord> {
  const r = rng(spec.seed);
  const { inputs, outputs } = payloads(r);
  const start = spec.anchor - 30 * DAY;
  const oldCount = Math.round(spec.traces * (1 - spec.lastDayShare));
  const newCount = spec.traces - oldCount;
  let traceId = '';
  let clock = start;
  const ids = new IdGenerator(1, () => clock);
  for (let i = 0; i < spec.traces; i++) {
    const startedAt =
      i < oldCount
        ? start + Math.floor(((i + r()) / oldCount) * 29 * DAY)
        : spec.anchor - DAY + Math.floor(((i - oldCount + r()) / newCount) * DAY) - 1;
    let w = r() * MODEL_WEIGHT_TOTAL;
    let m = MODELS[0]!;
    for (const x of MODELS) {
      w -= x.weight;
      if (w <= 0) {
        m = x;
        break;
      }
    }
    const error = r() < 0.03;
    const stream = r() < 0.4;
    const cacheHit = r() < 0.1;
    const inputTokens = 50 + Math.floor(r() * r() * 6000);
    const outputTokens = error ? 0 : 10 + Math.floor(r() * r() * 1200);
    const cached = r() < 0.3 ? Math.floor(inputTokens * 0.5) : 0;
    const latency = Math.round(Math.exp(Math.log(150) + (r() + r() + r() - 1.5) * 2.2) * (m.model.includes('pro') || m.model.includes('sonnet') ? 2 : 1) * 100) / 100;
    const known = m.inPrice !== null && m.outPrice !== null && !error;
    const costIn = known ? (inputTokens * m.inPrice!) / 1e6 : 0;
    const costOut = known ? (outputTokens * m.outPrice!) / 1e6 : 0;
    const user = Math.floor(r() * r() * 500);
    const feature = FEATURES[Math.floor(r() * r() * FEATURES.length)]!;
    // Made as the gateway makes them (time-ordered, see src/ids.ts); every other call starts a trace.
    clock = startedAt;
    if (i % 2 === 0) traceId = ids.traceId();
    yield {
      id: ids.callId(),
      trace_id: traceId,
      parent_id: null,
      kind: 'llm',
      name: `chat ${m.model}`,
      source: 'gateway',
      started_at: startedAt,
      endpoint: 'chat',
      environment: ENVIRONMENTS[Math.floor(r() * ENVIRONMENTS.length)]!,
      key_id: `key_${Math.floor(r() * 40)}`,
      user_id: `user-${user}`,
      feature,
      session_id: `sess-${user}-${Math.floor(startedAt / (30 * 60_000))}`,
      requested_model: m.model,
      provider: m.provider,
      provider_model: m.model,
      prompt_name: feature === 'summarize' ? 'summarize' : null,
      prompt_version: feature === 'summarize' ? String(1 + Math.floor(r() * 3)) : null,
      prompt_variant: null,
      request_params: { temperature: 0.2, max_tokens: 1024 },
      cache_status: cacheHit ? 'hit' : 'miss',
      guardrails: null,
      capture: 'full',
      input_payload: inputs[Math.floor(r() * inputs.length)]!,
      output_payload: error ? null : outputs[Math.floor(r() * outputs.length)]!,
      stream,
      status: error ? 'error' : 'ok',
      http_status: error ? 502 : 200,
      error_code: error ? 'upstream_error' : null,
      error_message: error ? 'upstream answered 500' : null,
      finish_reason: error ? null : 'stop',
      latency_ms: latency,
      ttft_ms: stream && !error ? Math.round(latency * (0.1 + r() * 0.4) * 100) / 100 : null,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      cached_tokens: cached,
      cache_write_tokens: 0,
      reasoning_tokens: 0,
      tokens_estimated: false,
      usage: { input: inputTokens, output: outputTokens, cached_input: cached, cache_write: 0, reasoning: 0 },
      cost_usd: known ? costIn + costOut : null,
      cost: known ? { input: costIn, cached_input: 0, cache_write: 0, output: costOut, total: costIn + costOut } : null,
      cost_source: known ? 'price_table' : null,
      attempts: [{ provider: m.provider, model: m.model, status: error ? 500 : 200, latency_ms: latency }],
      metadata: { tenant: TENANTS[Math.floor(r() * TENANTS.length)]!, plan: r() < 0.2 ? 'enterprise' : 'team' },
      attributes: null,
    };
  }
}

/** Feedback on about 1% of traces: thumbs (boolean) and ratings (1–5). */
export function feedbackFor(t: TraceRecord, i: number): FeedbackRecord | null {
  if (i % 97 !== 0) return null;
  const thumbs = i % 3 !== 0;
  return {
    id: `fb-${t.id}`,
    trace_id: t.trace_id,
    call_id: i % 2 === 0 ? t.id : null,
    name: thumbs ? 'thumbs' : 'rating',
    value_number: thumbs ? (i % 5 === 0 ? 0 : 1) : 1 + (i % 5),
    value_string: null,
    value_type: thumbs ? 'boolean' : 'number',
    comment: null,
    source: 'user',
    key_id: t.key_id,
    created_at: t.started_at + 30_000,
  };
}
