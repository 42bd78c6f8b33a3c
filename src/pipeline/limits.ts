/**
 * Stage, limits: rate limits (RPM/TPM per key, user, team, model) and the budget pre-check.
 * Reserves the request's worst-case cost before the call, or ends it with 429
 * (`rate_limit_exceeded`) or 402 (`budget_exceeded`) saying which limit refused it. The
 * reservation is reconciled with the real cost by `record` (a finalizer), whatever happens
 * after this stage. Only in the pipeline when `limits:` or `budgets:` is configured.
 */
import type { LimitsService } from '../limits/limits-service.js';
import type { Stage } from './compose.js';
import type { RequestContext } from './context.js';

export function limits(service: LimitsService): Stage<RequestContext> {
  return async (ctx, next) => {
    const ticket = await service.admit(ctx);
    if (ticket) {
      (ctx.finalizers ??= []).push((c) => {
        try {
          void service.settle(ticket, c);
        } catch (err) {
          service.settleFailed(c, err);
        }
      });
    }
    await next();
  };
}
