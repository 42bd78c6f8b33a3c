/**
 * Stage, record: an onion stage that, after everything else ran, turns the context into
 * one trace record and hands it to the async trace sink (never waiting on the database).
 * Payloads are kept according to the capture policy.
 */
import type { ChatRequest } from '../canonical.js';
import { routingAttributes } from '../routing/request-plan.js';
import type { TraceRecord } from '../store/types.js';
import type { CaptureSettings } from '../traces/capture.js';
import type { TraceSink } from '../traces/trace-sink.js';
import type { Stage } from './compose.js';
import type { RequestContext } from './context.js';

export interface RecordDeps {
  sink: TraceSink;
  capture: CaptureSettings;
  environment: string;
}

/** Request parameters that change the answer (OTel gen_ai.request.*), as the caller set them. */
const PARAMS = [
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'stop',
  'seed',
  'n',
  'presence_penalty',
  'frequency_penalty',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning_effort',
  'top_k',
] as const;

export function requestParams(req: RequestContext['request']): Record<string, unknown> | null {
  if (!req) return null;
  if (req.kind === 'embeddings') {
    const b = req.body;
    const out: Record<string, unknown> = {};
    if (b.dimensions !== undefined) out.dimensions = b.dimensions;
    if (b.encoding_format !== undefined) out.encoding_format = b.encoding_format;
    return out;
  }
  const b: ChatRequest = req.body;
  const out: Record<string, unknown> = {};
  for (const k of PARAMS) if (b[k] !== undefined && b[k] !== null) out[k] = b[k];
  if (b.response_format) out.response_format = b.response_format.type;
  if (b.tools?.length) out.tools = b.tools.map((t) => t.function.name);
  return out;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export function toTraceRecord(ctx: RequestContext, deps: Omit<RecordDeps, 'sink'>, now = performance.now()): TraceRecord {
  const u = ctx.usage;
  const err = ctx.error;
  const principal = ctx.principal;
  const capture = deps.capture.policyFor(principal ? { name: principal.name, id: principal.keyId } : undefined, ctx.requestedModel);
  return {
    id: ctx.callId,
    trace_id: ctx.traceId,
    parent_id: ctx.parentId,
    kind: 'llm',
    name: ctx.requestedModel ? `${ctx.inbound.endpoint} ${ctx.requestedModel}` : ctx.inbound.endpoint,
    source: 'gateway',
    started_at: ctx.startedAt,
    endpoint: ctx.inbound.endpoint,
    environment: deps.environment,
    key_id: principal ? (principal.keyId ?? 'admin') : null,
    user_id: ctx.tags.user,
    feature: ctx.tags.feature,
    session_id: ctx.tags.session,
    requested_model: ctx.requestedModel,
    provider: ctx.served?.provider ?? null,
    provider_model: ctx.served?.model ?? null,
    prompt_name: null,
    prompt_version: null,
    prompt_variant: null,
    request_params: requestParams(ctx.request),
    cache_status: ctx.cache?.status ?? (ctx.request ? 'skip' : null),
    guardrails: ctx.guardrails && ctx.guardrails.decisions.length > 0 ? ctx.guardrails.decisions : null,
    capture,
    // A body that is not JSON is kept as its text (a JSON string), to show what the client sent.
    input_payload: ctx.http.bodyError
      ? deps.capture.serialize(capture, ctx.http.rawBody)
      : deps.capture.serialize(capture, ctx.http.body, ctx.http.rawBody),
    output_payload: deps.capture.serialize(capture, ctx.output, ctx.outputJson),
    stream: ctx.stream,
    status: err ? 'error' : 'ok',
    http_status: ctx.httpStatus,
    error_code: err?.code ?? null,
    error_message: err?.message ?? null,
    finish_reason: ctx.finishReason,
    latency_ms: round(now - ctx.t0),
    ttft_ms: ctx.ttftMs,
    input_tokens: u?.inputTokens ?? null,
    output_tokens: u?.outputTokens ?? null,
    cached_tokens: u?.cachedInputTokens ?? null,
    cache_write_tokens: u?.cacheWriteTokens ?? null,
    reasoning_tokens: u?.reasoningTokens ?? null,
    tokens_estimated: u?.estimated ?? false,
    usage: u
      ? { input: u.inputTokens, output: u.outputTokens, cached_input: u.cachedInputTokens, cache_write: u.cacheWriteTokens, reasoning: u.reasoningTokens }
      : null,
    // No usage means no tokens were spent (the call failed before a model answered): 0, not unknown.
    cost_usd: u ? ctx.costUsd : 0,
    cost: ctx.cost,
    cost_source: ctx.costSource,
    attempts: ctx.attempts,
    metadata: ctx.tags.metadata,
    attributes: ctx.routing ? { ...ctx.cache?.attributes, ...routingAttributes(ctx.routing) } : (ctx.cache?.attributes ?? null),
  };
}

export function record(deps: RecordDeps): Stage<RequestContext> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      if (ctx.finalizers) for (const f of ctx.finalizers) f(ctx);
      deps.sink.push(toTraceRecord(ctx, deps));
    }
  };
}
