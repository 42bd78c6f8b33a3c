/**
 * One gateway call ({@link TraceRecord}, source `gateway`) → one OTLP span with the
 * OpenTelemetry GenAI attributes (gen_ai.operation.name, gen_ai.provider.name,
 * gen_ai.request.model, gen_ai.response.model, gen_ai.usage.*, gen_ai.response.finish_reasons,
 * error.type) and `llmops.*` for what GenAI has no name for (cost, key, tags, attempts).
 * Same trace id, span id and parent as the stored record, so the exported span joins the
 * caller's trace. https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/
 */
import { createHash } from 'node:crypto';
import type { TraceRecord } from '../store/types.js';
import type { OtlpKeyValue, OtlpSpan, OtlpValue } from './otlp-codec.js';
import { SpanKind, StatusCode } from './otlp-schema.js';

const TRACE_ID = /^[\da-f]{32}$/;
const SPAN_ID = /^[\da-f]{16}$/;

/** gen_ai.provider.name values for the gateway's provider types (semconv well-known values). */
const GENAI_PROVIDER_BY_TYPE: Record<string, string> = {
  openai: 'openai',
  'azure-openai': 'azure.ai.openai',
  anthropic: 'anthropic',
  gemini: 'gcp.gemini',
};
const GENAI_PROVIDER_BY_PRESET: Record<string, string> = {
  groq: 'groq',
  mistral: 'mistral_ai',
  deepseek: 'deepseek',
};

/**
 * The semconv provider name for a configured provider: by its type, else by its preset,
 * else the configured name itself.
 */
export function genAiProviderName(name: string, type: string | undefined, preset?: string): string {
  return (type && GENAI_PROVIDER_BY_TYPE[type]) ?? (preset && GENAI_PROVIDER_BY_PRESET[preset]) ?? GENAI_PROVIDER_BY_PRESET[name] ?? name;
}

/** OTLP needs a 16-byte trace id; a free-form `x-llmops-trace-id` is hashed into one (and kept as `llmops.trace_id`). */
export function otlpTraceId(traceId: string): string {
  const lower = traceId.toLowerCase();
  if (TRACE_ID.test(lower) && !/^0+$/.test(lower)) return lower;
  return createHash('sha256').update(traceId).digest('hex').slice(0, 32);
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1000)) * 1000n;
}

class Attrs {
  readonly list: OtlpKeyValue[] = [];
  private put(key: string, value: OtlpValue): void {
    this.list.push({ key, value });
  }
  str(key: string, v: string | null | undefined): this {
    if (v !== null && v !== undefined && v !== '') this.put(key, { stringValue: v });
    return this;
  }
  int(key: string, v: number | null | undefined): this {
    if (typeof v === 'number' && Number.isFinite(v)) this.put(key, { intValue: Math.round(v) });
    return this;
  }
  double(key: string, v: number | null | undefined): this {
    if (typeof v === 'number' && Number.isFinite(v)) this.put(key, { doubleValue: v });
    return this;
  }
  bool(key: string, v: boolean | null | undefined): this {
    if (typeof v === 'boolean') this.put(key, { boolValue: v });
    return this;
  }
  strings(key: string, v: readonly string[]): this {
    if (v.length > 0) this.put(key, { arrayValue: { values: v.map((s) => ({ stringValue: s })) } });
    return this;
  }
  /** A request parameter as the caller sent it, typed as semconv wants (numbers as doubles or ints). */
  param(key: string, v: unknown, as: 'double' | 'int'): this {
    if (typeof v !== 'number') return this;
    return as === 'double' ? this.double(key, v) : this.int(key, v);
  }
}

export interface RecordSpanOptions {
  /** gen_ai.provider.name for a configured provider name. */
  providerName(name: string): string;
}

/**
 * The OTLP span for one gateway call.
 * @example
 * const span = recordToSpan(record, { providerName: (n) => n });
 */
export function recordToSpan(t: TraceRecord, opts: RecordSpanOptions): OtlpSpan {
  const operation = t.endpoint === 'embeddings' ? 'embeddings' : 'chat';
  const traceId = otlpTraceId(t.trace_id);
  const params = t.request_params ?? {};
  const a = new Attrs()
    .str('gen_ai.operation.name', operation)
    .str('gen_ai.provider.name', t.provider ? opts.providerName(t.provider) : null)
    .str('gen_ai.request.model', t.requested_model)
    .str('gen_ai.response.model', t.provider_model)
    .param('gen_ai.request.temperature', params.temperature, 'double')
    .param('gen_ai.request.top_p', params.top_p, 'double')
    .param('gen_ai.request.top_k', params.top_k, 'double')
    .param('gen_ai.request.max_tokens', params.max_tokens ?? params.max_completion_tokens, 'int')
    .param('gen_ai.request.seed', params.seed, 'int')
    .param('gen_ai.request.frequency_penalty', params.frequency_penalty, 'double')
    .param('gen_ai.request.presence_penalty', params.presence_penalty, 'double')
    .param('gen_ai.request.choice.count', params.n, 'int')
    .bool('gen_ai.request.stream', t.stream)
    .int('gen_ai.usage.input_tokens', t.input_tokens)
    .int('gen_ai.usage.output_tokens', t.output_tokens)
    .int('gen_ai.usage.cache_read.input_tokens', t.cached_tokens || null)
    .int('gen_ai.usage.cache_creation.input_tokens', t.cache_write_tokens || null)
    .int('gen_ai.usage.reasoning.output_tokens', t.reasoning_tokens || null)
    .strings('gen_ai.response.finish_reasons', t.finish_reason ? [t.finish_reason] : [])
    .double('gen_ai.response.time_to_first_chunk', t.ttft_ms === null ? null : t.ttft_ms / 1000)
    .str('error.type', t.status === 'error' ? (t.error_code ?? 'error') : null)
    .int('http.response.status_code', t.http_status || null)
    .str('llmops.trace_id', traceId === t.trace_id ? null : t.trace_id)
    .str('llmops.endpoint', t.endpoint)
    .str('llmops.provider', t.provider)
    .double('llmops.cost_usd', t.cost_usd)
    .str('llmops.cost_source', t.cost_source)
    .str('llmops.key_id', t.key_id)
    .str('llmops.user', t.user_id)
    .str('llmops.feature', t.feature)
    .str('llmops.session', t.session_id)
    .str('llmops.environment', t.environment)
    .str('llmops.cache', t.cache_status)
    .bool('llmops.tokens_estimated', t.tokens_estimated)
    .int('llmops.attempts', t.attempts.length);

  const start = msToNs(t.started_at);
  // Attempts run one after another from the call's start; their latencies place them in time.
  let at = start;
  const events = t.attempts.map((att, i) => {
    at += msToNs(att.latency_ms);
    const ev = new Attrs()
      .int('llmops.attempt', i + 1)
      .str('gen_ai.provider.name', opts.providerName(att.provider))
      .str('llmops.provider', att.provider)
      .str('gen_ai.request.model', att.model)
      .int('http.response.status_code', att.status)
      .double('llmops.latency_ms', att.latency_ms)
      .str('error.type', att.error_code)
      .str('llmops.error', att.error);
    return { name: 'llmops.attempt', timeUnixNano: at, attributes: ev.list };
  });

  return {
    traceId,
    spanId: SPAN_ID.test(t.id) ? t.id : createHash('sha256').update(t.id).digest('hex').slice(0, 16),
    parentSpanId: t.parent_id !== null && SPAN_ID.test(t.parent_id) ? t.parent_id : null,
    name: t.requested_model ? `${operation} ${t.requested_model}` : operation,
    kind: SpanKind.CLIENT,
    startTimeUnixNano: start,
    endTimeUnixNano: start + msToNs(t.latency_ms),
    attributes: a.list,
    events,
    status: t.status === 'error' ? { code: StatusCode.ERROR, message: t.error_message ?? t.error_code ?? 'error' } : { code: StatusCode.UNSET, message: '' },
  };
}
