/**
 * Stage, route: resolve the model to a route, check the key may use it, and call the
 * provider through the executor (strategy, retries, fallback, circuit breaker). For a
 * stream, the first part is awaited inside the attempt, so failures before the first
 * byte reaches the client are still retried or fallen back.
 */
import { LlmopsError } from '../errors.js';
import type { PriceTable } from '../pricing/price-table.js';
import { executeRoute, type ExecutorDeps } from '../routing/executor.js';
import { planChat } from '../routing/request-plan.js';
import type { ModelRouter } from '../routing/router.js';
import type { Stage } from './compose.js';
import type { RequestContext } from './context.js';

/** `prices` enables the per-request plan (cost order, complexity tiers, output caps, trimming) of routes that have one. */
export function route(router: ModelRouter, executor: ExecutorDeps, prices?: PriceTable): Stage<RequestContext> {
  return async (ctx, next) => {
    const req = ctx.request;
    if (!req) throw new Error('pipeline: route stage reached without a parsed request');
    const model = req.body.model;
    const r = router.resolve(model);
    if (ctx.principal && !ctx.principal.allows(model)) {
      throw new LlmopsError('model_not_allowed', `This API key ("${ctx.principal.name}") may not use the model '${model}'.`, {
        param: 'model',
      });
    }
    ctx.route = r;
    const signal = ctx.http.cancel;
    if (req.kind === 'embeddings') {
      const a = await executeRoute(r, executor, signal, ctx.attempts, (t, o) => t.provider.embeddings(req.body, t.model, o));
      a.release();
      ctx.served = { provider: a.target.provider.name, model: a.target.model };
      ctx.result = { kind: 'embeddings', value: a.value };
      ctx.usage = a.value.usage;
      return next();
    }
    const plan = r.planned && prices ? planChat(r, req.body, { prices, breaker: executor.breaker }) : undefined;
    if (plan) {
      ctx.routing = plan.decision;
      if (plan.error) throw plan.error;
    }
    const planned = plan?.route ?? r;
    if (!ctx.stream) {
      const a = await executeRoute(planned, executor, signal, ctx.attempts, (t, o) => {
        const x = plan ? plan.forTarget(t, req.native) : req;
        return t.provider.chat(x.body, t.model, x.native ? { ...o, native: x.native } : o);
      });
      a.release();
      ctx.served = { provider: a.target.provider.name, model: a.target.model };
      ctx.result = { kind: 'chat', value: a.value };
      ctx.usage = a.value.usage;
      ctx.finishReason = a.value.response.choices[0]?.finish_reason ?? null;
    } else {
      const a = await executeRoute(planned, executor, signal, ctx.attempts, async (t, o) => {
        const x = plan ? plan.forTarget(t, req.native) : req;
        const rest = await t.provider.chatStream(x.body, t.model, x.native ? { ...o, native: x.native } : o);
        try {
          return { rest, first: await rest.next() };
        } catch (err) {
          void rest.return?.();
          throw err;
        }
      });
      ctx.served = { provider: a.target.provider.name, model: a.target.model };
      ctx.result = { kind: 'stream', first: a.value.first, rest: a.value.rest, attempt: a };
    }
    await next();
  };
}
