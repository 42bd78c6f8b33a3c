/**
 * Stage, record: an onion stage that, after everything else ran, turns the context into
 * one trace record and hands it to the async trace sink (never waiting on the database).
 */
import type { TraceRecord } from '../store/types.js';
import type { TraceSink } from '../traces/trace-sink.js';
import type { Stage } from './compose.js';
import type { RequestContext } from './context.js';

export function toTraceRecord(ctx: RequestContext, now = performance.now()): TraceRecord {
  const u = ctx.usage;
  const err = ctx.error;
  return {
    id: ctx.callId,
    trace_id: ctx.traceId,
    started_at: ctx.startedAt,
    endpoint: ctx.inbound.endpoint,
    key_id: ctx.principal ? (ctx.principal.keyId ?? 'admin') : null,
    user_id: ctx.tags.user,
    feature: ctx.tags.feature,
    session_id: ctx.tags.session,
    requested_model: ctx.requestedModel,
    provider: ctx.served?.provider ?? null,
    provider_model: ctx.served?.model ?? null,
    stream: ctx.stream,
    status: err ? 'error' : 'ok',
    http_status: ctx.httpStatus,
    error_code: err?.code ?? null,
    error_message: err?.message ?? null,
    finish_reason: ctx.finishReason,
    latency_ms: Math.round((now - ctx.t0) * 100) / 100,
    ttft_ms: ctx.ttftMs,
    input_tokens: u?.inputTokens ?? null,
    output_tokens: u?.outputTokens ?? null,
    cached_tokens: u?.cachedInputTokens ?? null,
    cache_write_tokens: u?.cacheWriteTokens ?? null,
    reasoning_tokens: u?.reasoningTokens ?? null,
    tokens_estimated: u?.estimated ?? false,
    cost_usd: ctx.costUsd,
    attempts: ctx.attempts,
    metadata: ctx.tags.metadata,
  };
}

export function record(sink: TraceSink): Stage<RequestContext> {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      sink.push(toTraceRecord(ctx));
    }
  };
}
