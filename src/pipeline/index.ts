/**
 * The request pipeline, named in one place. Stages run in this order, onion-style:
 * `record` and `respond` wrap the rest and do their work on the way out, so they see
 * every failure of the stages after them. `output_guards` sits after `route`: it judges
 * the answer `route` left in the context (and may ask again through the executor).
 */
import type { KeyService } from '../keys/key-service.js';
import type { ExecutorDeps } from '../routing/executor.js';
import type { ModelRouter } from '../routing/router.js';
import type { ResponseCache } from '../cache/response-cache.js';
import type { LimitsService } from '../limits/limits-service.js';
import type { GuardrailEngine } from '../guards/policy/engine.js';
import { inputGuards } from '../guards/policy/input-stage.js';
import { outputGuards } from '../guards/policy/output-stage.js';
import type { ReviewQueue } from '../guards/review/review-queue.js';
import { authenticate } from './authenticate.js';
import { cache } from './cache.js';
import { compose, type Stage } from './compose.js';
import { limits } from './limits.js';
import type { RequestContext } from './context.js';
import { parse } from './parse.js';
import { record, type RecordDeps } from './record.js';
import { respond, type RespondDeps } from './respond.js';
import { route } from './route.js';

export const STAGE_NAMES = ['authenticate', 'record', 'respond', 'parse', 'limits', 'input_guards', 'cache', 'route', 'output_guards'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface PipelineDeps extends RespondDeps, RecordDeps {
  keys: KeyService;
  router: ModelRouter;
  executor: ExecutorDeps;
  /** The response cache; without it the cache stage is left out of the pipeline. */
  cache?: ResponseCache | undefined;
  /** Rate limits and budgets; without them the limits stage is left out of the pipeline. */
  limits?: LimitsService | undefined;
  /** Guardrail policies; without them both guard stages are left out of the pipeline. */
  guardrails?: GuardrailEngine | undefined;
  /** The human review queue's intake (with `guardrails`). */
  review?: ReviewQueue | undefined;
}

export function buildPipeline(deps: PipelineDeps): (ctx: RequestContext) => Promise<void> {
  const stages: Record<StageName, Stage<RequestContext> | undefined> = {
    authenticate: authenticate(deps.keys),
    record: record(deps),
    respond: respond(deps),
    parse: parse(),
    limits: deps.limits ? limits(deps.limits) : undefined,
    input_guards: deps.guardrails ? inputGuards(deps.guardrails, deps.review) : undefined,
    cache: deps.cache ? cache(deps.cache) : undefined,
    route: route(deps.router, deps.executor, deps.prices),
    output_guards: deps.guardrails?.hasOutputGuards ? outputGuards(deps.executor) : undefined,
  };
  return compose(STAGE_NAMES.flatMap((name) => stages[name] ?? []));
}
