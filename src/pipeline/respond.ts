/**
 * Stage, respond: an onion stage that does its work on the way out. It writes the answer
 * the later stages produced (JSON, or a stream pumped part by part with backpressure), or
 * the error they threw, in the inbound format's shape. It settles usage (counted with the
 * tokenizer when the provider reported none) and cost, so `record` sees the final state.
 */
import { writeCachedAnswer } from '../cache/replay.js';
import { contentText, embeddingsShape, type ChatRequest, type Usage } from '../canonical.js';
import { asLlmopsError, retryAfterHeader } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { StreamPart } from '../providers/types.js';
import { countChatInputTokens, countTokens, estimateEmbeddingsUsage } from '../token-counter.js';
import type { Stage } from './compose.js';
import type { RequestContext } from './context.js';

export interface RespondDeps {
  prices: PriceTable;
  log: Logger;
}

function estimateUsage(req: ChatRequest | undefined, outputText: string): Usage {
  return {
    inputTokens: req ? countChatInputTokens(req) : 0,
    outputTokens: countTokens(outputText),
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    estimated: true,
  };
}

/** Sets ctx.usage (estimating when missing) and ctx.costUsd. */
function settle(ctx: RequestContext, deps: RespondDeps, outputText: () => string): void {
  if (!ctx.usage) {
    if (ctx.request?.kind === 'embeddings') {
      ctx.usage = estimateEmbeddingsUsage(ctx.request.body);
    } else {
      ctx.usage = estimateUsage(ctx.request?.body as ChatRequest | undefined, outputText());
    }
  }
  if (!ctx.served) return;
  ctx.cost = deps.prices.costDetails(ctx.usage, ctx.served.model, ctx.served.provider);
  if (ctx.usage.providerCostUsd !== undefined) {
    ctx.costUsd = ctx.usage.providerCostUsd;
    ctx.costSource = 'provider';
  } else if (ctx.cost) {
    ctx.costUsd = ctx.cost.total;
    ctx.costSource = 'price_table';
  }
}

function llmopsHeaders(ctx: RequestContext): Record<string, string> {
  const h: Record<string, string> = { 'x-llmops-trace-id': ctx.traceId, 'x-llmops-cache': ctx.cache?.status ?? 'skip' };
  if (ctx.served) {
    h['x-llmops-provider'] = ctx.served.provider;
    h['x-llmops-model'] = ctx.served.model;
  }
  if (ctx.costUsd !== null) h['x-llmops-cost-usd'] = ctx.costUsd.toFixed(8);
  if (ctx.responseHeaders) Object.assign(h, ctx.responseHeaders);
  return h;
}

/** Collects what a stream said: the assembled message (for the trace) and the last usage. */
class StreamTally {
  content = '';
  readonly toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  finish: string | null = null;
  usage: Usage | undefined;
  sawOutput = false;

  add(p: StreamPart): void {
    if (p.usage) this.usage = p.usage;
    const choice = p.chunk?.choices[0];
    if (!choice) return;
    const d = choice.delta;
    if (d.content) {
      this.content += d.content;
      this.sawOutput = true;
    }
    if (d.tool_calls) {
      for (const tc of d.tool_calls) {
        const call = (this.toolCalls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
        if (tc.id) call.id = tc.id;
        if (tc.function?.name) call.function.name += tc.function.name;
        if (tc.function?.arguments) call.function.arguments += tc.function.arguments;
      }
      this.sawOutput = true;
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
  }

  /** All generated text, for counting tokens when the provider reported none. */
  text(): string {
    return this.content + this.toolCalls.map((t) => t.function.name + t.function.arguments).join('');
  }

  message(): unknown {
    return { role: 'assistant', content: this.content, ...(this.toolCalls.length ? { tool_calls: this.toolCalls } : {}) };
  }
}

export function respond(deps: RespondDeps): Stage<RequestContext> {
  return async (ctx, next) => {
    const http = ctx.http;
    try {
      await next();
      const r = ctx.result;
      if (!r) throw new Error('pipeline: no result after the route stage');
      if (r.kind === 'cached') {
        ctx.httpStatus = 200;
        await writeCachedAnswer(ctx, r.hit, llmopsHeaders(ctx));
        return;
      }
      if (r.kind === 'chat') {
        const msg = r.value.response.choices[0]?.message;
        ctx.output = r.value.response;
        if (r.value.native?.format === 'openai') ctx.outputJson = r.value.native.text;
        settle(ctx, deps, () => contentText(msg?.content ?? null) + (msg?.tool_calls ?? []).map((t) => t.function.name + t.function.arguments).join(''));
        http.sendJson(200, ctx.inbound.renderChat(r.value, ctx.requestedModel ?? ''), llmopsHeaders(ctx));
        ctx.httpStatus = 200;
        return;
      }
      if (r.kind === 'embeddings') {
        ctx.output = embeddingsShape(r.value.response);
        settle(ctx, deps, () => '');
        http.sendJson(200, ctx.inbound.renderEmbeddings(r.value), llmopsHeaders(ctx));
        ctx.httpStatus = 200;
        return;
      }
      // Stream: the first part is in hand; from here no retry or fallback is possible.
      const encoder = ctx.inbound.streamEncoder(ctx.requestedModel ?? '');
      const tally = new StreamTally();
      ctx.httpStatus = 200;
      http.startStream({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        ...llmopsHeaders(ctx),
      });
      try {
        let step = r.first;
        while (!step.done) {
          tally.add(step.value);
          if (ctx.ttftMs === null && tally.sawOutput) ctx.ttftMs = round(performance.now() - ctx.t0);
          const text = encoder.part(step.value);
          if (text) await http.write(text);
          step = await r.rest.next();
        }
        ctx.usage = tally.usage;
        ctx.finishReason = tally.finish;
        ctx.output = tally.message();
        settle(ctx, deps, () => tally.text());
        await http.write(encoder.end());
      } catch (e) {
        const err = r.attempt.failure(e);
        ctx.error = err;
        ctx.httpStatus = err.code === 'client_closed_request' ? 499 : 200;
        ctx.usage = tally.usage;
        ctx.finishReason = tally.finish;
        ctx.output = tally.message();
        settle(ctx, deps, () => tally.text());
        void r.rest.return?.();
        if (err.code === 'internal_error') deps.log.error('stream failed', { trace_id: ctx.traceId, err: e });
        if (err.code !== 'client_closed_request') {
          const attempt = ctx.attempts[ctx.attempts.length - 1];
          if (attempt) {
            attempt.error_code = err.code;
            attempt.error = err.message;
          }
          await http.write(encoder.error(err)).catch(() => undefined);
        }
      } finally {
        r.attempt.release();
        http.end();
      }
    } catch (e) {
      const err = asLlmopsError(e);
      ctx.error = err;
      ctx.httpStatus = err.status;
      if (err.code === 'internal_error') deps.log.error('request failed', { trace_id: ctx.traceId, err: e });
      if (!http.headersSent && err.code !== 'client_closed_request') {
        const headers = llmopsHeaders(ctx);
        const retryAfter = retryAfterHeader(err);
        if (retryAfter) headers['retry-after'] = retryAfter;
        http.sendJson(err.status, ctx.inbound.errorBody(err), headers);
      } else if (!http.headersSent) {
        http.end();
      }
    }
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
