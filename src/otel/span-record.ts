/**
 * One OTLP span → one {@link TraceRecord}. Spans that describe a model call (OpenTelemetry
 * GenAI semantic conventions: `gen_ai.operation.name` chat / text_completion /
 * generate_content / embeddings, or no operation but a `gen_ai.*` model or provider)
 * become `kind: 'llm'` with usage and a price-table cost; every other span (agent steps,
 * tools, retrieval, plain application spans) becomes `kind: 'span'`. Message content in
 * attributes (`gen_ai.input.messages`, ...) goes through the caller's capture policy like
 * the gateway's own payloads. https://opentelemetry.io/docs/specs/semconv/gen-ai/
 */
import type { Usage } from '../canonical.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { CapturePolicy, TraceRecord } from '../store/types.js';
import type { CaptureSettings } from '../traces/capture.js';
import type { AttributeValue, Attributes, DecodedSpan } from './otlp-codec.js';
import { StatusCode } from './otlp-schema.js';

export interface SpanRecordDeps {
  prices: PriceTable;
  capture: CaptureSettings;
}

/** The key that sent the spans. */
export interface SpanCaller {
  /** As in gateway records: the key id, `config:<name>`, or `admin`. */
  keyId: string;
  keyName: string;
}

export type SpanResult = { ok: true; record: TraceRecord } | { ok: false; reason: string };

const LLM_OPERATIONS = new Set(['chat', 'text_completion', 'generate_content', 'embeddings']);

/** gen_ai.request.* → request_params, as the gateway names them. */
const REQUEST_PARAMS: ReadonlyArray<[string, string]> = [
  ['gen_ai.request.temperature', 'temperature'],
  ['gen_ai.request.top_p', 'top_p'],
  ['gen_ai.request.top_k', 'top_k'],
  ['gen_ai.request.max_tokens', 'max_tokens'],
  ['gen_ai.request.seed', 'seed'],
  ['gen_ai.request.frequency_penalty', 'frequency_penalty'],
  ['gen_ai.request.presence_penalty', 'presence_penalty'],
  ['gen_ai.request.stop_sequences', 'stop'],
  ['gen_ai.request.choice.count', 'n'],
  ['gen_ai.request.encoding_formats', 'encoding_format'],
];

/** Content attributes that become the record's payloads (first present wins). */
const INPUT_KEYS = ['gen_ai.input.messages', 'gen_ai.prompt', 'gen_ai.tool.call.arguments', 'gen_ai.retrieval.query.text'];
const OUTPUT_KEYS = ['gen_ai.output.messages', 'gen_ai.completion', 'gen_ai.tool.call.result', 'gen_ai.retrieval.documents'];
/** Other attributes that may carry message content: kept, redacted or dropped per the capture policy. */
const CONTENT_KEYS = new Set([...INPUT_KEYS, ...OUTPUT_KEYS, 'gen_ai.system_instructions']);

const SPAN_KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

const TRACE_ID = /^[\da-f]{32}$/;
const SPAN_ID = /^[\da-f]{16}$/;

function str(v: AttributeValue | undefined): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

function int(v: AttributeValue | undefined): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? Math.round(n) : null;
}

function first(attrs: Attributes, ...keys: string[]): AttributeValue | undefined {
  for (const k of keys) if (attrs[k] !== undefined && attrs[k] !== null) return attrs[k];
  return undefined;
}

/** Content attributes are often JSON text (gen_ai.input.messages); keep them as structure when they are. */
function parseContent(v: AttributeValue): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return v;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return v;
  }
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A value under the capture policy: as is (full), masked (redacted), or gone (metadata). */
function underPolicy(policy: CapturePolicy, capture: CaptureSettings, v: AttributeValue): AttributeValue | undefined {
  if (policy === 'metadata') return undefined;
  if (policy === 'full') return v;
  const redact = (x: AttributeValue): AttributeValue => {
    if (typeof x === 'string') return capture.redactText(x);
    if (Array.isArray(x)) return x.map(redact);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, redact(y)]));
    return x;
  };
  return redact(v);
}

function usageOf(attrs: Attributes): Usage | null {
  const input = int(first(attrs, 'gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens'));
  const output = int(first(attrs, 'gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens'));
  if (input === null && output === null) return null;
  return {
    inputTokens: input ?? 0,
    outputTokens: output ?? 0,
    cachedInputTokens: int(attrs['gen_ai.usage.cache_read.input_tokens']) ?? 0,
    cacheWriteTokens: int(attrs['gen_ai.usage.cache_creation.input_tokens']) ?? 0,
    reasoningTokens: int(attrs['gen_ai.usage.reasoning.output_tokens']) ?? 0,
    estimated: false,
  };
}

/**
 * Maps one decoded span to a trace record, or says why it was rejected (invalid ids or
 * times, which OTLP requires).
 * @example
 * const r = spanToRecord(span, resourceAttrs, 'my-scope', { keyId: 'key_1', keyName: 'app' }, deps);
 * if (r.ok) sink.push(r.record);
 */
export function spanToRecord(span: DecodedSpan, resource: Attributes, scopeName: string, caller: SpanCaller, deps: SpanRecordDeps): SpanResult {
  if (!TRACE_ID.test(span.traceId) || /^0+$/.test(span.traceId)) return { ok: false, reason: `invalid trace id '${span.traceId}' (expected 16 bytes)` };
  if (!SPAN_ID.test(span.spanId) || /^0+$/.test(span.spanId)) return { ok: false, reason: `invalid span id '${span.spanId}' (expected 8 bytes)` };
  if (span.parentSpanId !== '' && !SPAN_ID.test(span.parentSpanId)) {
    return { ok: false, reason: `invalid parent span id '${span.parentSpanId}' in span ${span.spanId}` };
  }
  if (span.startTimeUnixNano <= 0n || span.endTimeUnixNano <= 0n) return { ok: false, reason: `span ${span.spanId} has no start or end time` };

  const attrs = span.attributes;
  const operation = str(attrs['gen_ai.operation.name']);
  const provider = str(first(attrs, 'gen_ai.provider.name', 'gen_ai.system'));
  const requestModel = str(attrs['gen_ai.request.model']);
  const responseModel = str(attrs['gen_ai.response.model']);
  const isLlm = operation !== null ? LLM_OPERATIONS.has(operation) : requestModel !== null || responseModel !== null || provider !== null;

  const isError = span.status.code === StatusCode.ERROR;
  const exception = span.events.find((e) => e.name === 'exception');
  const policy = deps.capture.policyFor({ name: caller.keyName, id: caller.keyId }, isLlm ? requestModel : null);

  const inputKey = INPUT_KEYS.find((k) => attrs[k] !== undefined && attrs[k] !== null);
  const outputKey = OUTPUT_KEYS.find((k) => attrs[k] !== undefined && attrs[k] !== null);
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) {
    if (k === inputKey || k === outputKey) continue;
    const value = CONTENT_KEYS.has(k) ? underPolicy(policy, deps.capture, v) : v;
    if (value !== undefined) kept[k] = value;
  }
  kept['otel.span_kind'] = SPAN_KIND_NAMES[span.kind] ?? String(span.kind);
  if (scopeName) kept['otel.scope'] = scopeName;
  if (span.events.length > 0) {
    kept['otel.events'] = span.events.map((e) => {
      // Events named gen_ai.* (the older content events) may carry prompts and answers.
      const content = e.name.startsWith('gen_ai.');
      const attributes = content ? underPolicy(policy, deps.capture, e.attributes) : e.attributes;
      return { name: e.name, time_ms: nsToMs(e.timeUnixNano), ...(attributes === undefined ? {} : { attributes }) };
    });
  }
  if (Object.keys(resource).length > 0) kept['otel.resource'] = resource;

  let usage: Usage | null = null;
  let cost: TraceRecord['cost'] = null;
  let requestParams: Record<string, unknown> | null = null;
  let ttftMs: number | null = null;
  let finishReason: string | null = null;
  if (isLlm) {
    usage = usageOf(attrs);
    const pricedModel = responseModel ?? requestModel;
    if (usage && pricedModel) cost = deps.prices.costDetails(usage, pricedModel, provider ?? undefined);
    requestParams = {};
    for (const [attr, name] of REQUEST_PARAMS) if (attrs[attr] !== undefined && attrs[attr] !== null) requestParams[name] = attrs[attr];
    const ttftS = attrs['gen_ai.response.time_to_first_chunk'];
    if (typeof ttftS === 'number' && Number.isFinite(ttftS) && ttftS >= 0) ttftMs = round2(ttftS * 1000);
    const reasons = attrs['gen_ai.response.finish_reasons'];
    finishReason = Array.isArray(reasons) ? str(reasons[0]) : str(reasons);
  }

  const envValue = str(first(resource, 'deployment.environment.name', 'deployment.environment')) ?? str(first(attrs, 'deployment.environment.name', 'deployment.environment'));
  const tag = (...keys: string[]): string | null => str(first(attrs, ...keys)) ?? str(first(resource, ...keys));
  const httpStatus = int(attrs['http.response.status_code']);
  const latencyNs = span.endTimeUnixNano > span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0n;

  const record: TraceRecord = {
    id: span.spanId,
    trace_id: span.traceId,
    parent_id: span.parentSpanId === '' ? null : span.parentSpanId,
    kind: isLlm ? 'llm' : 'span',
    name: span.name === '' ? null : span.name,
    source: 'otlp',
    started_at: nsToMs(span.startTimeUnixNano),
    endpoint: isLlm ? (operation === 'embeddings' ? 'embeddings' : 'chat') : 'span',
    environment: envValue,
    key_id: caller.keyId,
    user_id: tag('user.id', 'enduser.id'),
    feature: tag('llmops.feature'),
    session_id: tag('session.id', 'gen_ai.conversation.id'),
    requested_model: isLlm ? requestModel : null,
    provider: isLlm ? provider : null,
    provider_model: isLlm ? responseModel : null,
    prompt_name: str(attrs['gen_ai.prompt.name']),
    prompt_version: null,
    prompt_variant: null,
    request_params: requestParams,
    cache_status: null,
    guardrails: null,
    capture: policy,
    input_payload: inputKey ? deps.capture.serialize(policy, parseContent(attrs[inputKey] ?? null)) : null,
    output_payload: outputKey ? deps.capture.serialize(policy, parseContent(attrs[outputKey] ?? null)) : null,
    stream: attrs['gen_ai.request.stream'] === true,
    status: isError ? 'error' : 'ok',
    // Not every span is an HTTP exchange: 0 when the span does not say.
    http_status: httpStatus ?? 0,
    error_code: isError ? str(attrs['error.type']) ?? str(exception?.attributes['exception.type']) : null,
    error_message: isError ? (span.status.message || str(exception?.attributes['exception.message'])) : null,
    finish_reason: finishReason,
    latency_ms: round2(Number(latencyNs) / 1e6),
    ttft_ms: ttftMs,
    input_tokens: usage ? usage.inputTokens : null,
    output_tokens: usage ? usage.outputTokens : null,
    cached_tokens: usage ? usage.cachedInputTokens : null,
    cache_write_tokens: usage ? usage.cacheWriteTokens : null,
    reasoning_tokens: usage ? usage.reasoningTokens : null,
    tokens_estimated: false,
    usage: usage
      ? { input: usage.inputTokens, output: usage.outputTokens, cached_input: usage.cachedInputTokens, cache_write: usage.cacheWriteTokens, reasoning: usage.reasoningTokens }
      : null,
    cost_usd: cost ? cost.total : null,
    cost,
    cost_source: cost ? 'price_table' : null,
    attempts: [],
    metadata: null,
    attributes: kept,
  };
  return { ok: true, record };
}
