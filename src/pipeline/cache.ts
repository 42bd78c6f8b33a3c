/**
 * Stage, cache: exact, then semantic lookup; a hit short-circuits (route is never called,
 * `respond` writes the stored answer). On a miss the later stages run and a successful,
 * complete answer is stored on the way out. Not in the pipeline at all when no `cache:`
 * is configured.
 */
import type { ResponseCache } from '../cache/response-cache.js';
import type { Stage } from './compose.js';
import type { RequestContext } from './context.js';

const SKIP = { status: 'skip' } as const;
const ZERO_USAGE = { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false };

export function cache(rc: ResponseCache): Stage<RequestContext> {
  return async (ctx, next) => {
    const plan = rc.plan(ctx);
    if (!plan) {
      ctx.cache = SKIP;
      return next();
    }
    const hit = await rc.lookup(plan);
    if (hit) {
      ctx.cache = { status: 'hit', attributes: rc.hitAttributes(hit) };
      ctx.result = { kind: 'cached', hit };
      // Nothing was spent: what the answer cost the first time is in the attributes.
      ctx.usage = { ...ZERO_USAGE };
      ctx.costUsd = 0;
      ctx.finishReason = hit.entry.finishReason;
      if (ctx.stream) ctx.ttftMs = Math.round((performance.now() - ctx.t0) * 100) / 100;
      if (ctx.request?.kind === 'embeddings') {
        // As for a fresh answer, the trace keeps the vectors' shape, not the vectors.
        ctx.output = JSON.parse(hit.entry.completion) as unknown;
      } else {
        ctx.output = hit.entry.body;
        ctx.outputJson = hit.entry.body;
      }
      return;
    }
    ctx.cache = { status: 'miss' };
    await next();
    rc.fill(ctx, plan);
  };
}
