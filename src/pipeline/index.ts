/**
 * The request pipeline, named in one place. Stages run in this order, onion-style:
 * `record` and `respond` wrap the rest and do their work on the way out, so they see
 * every failure of the stages after them. Later stages (prompt, limits, guards, cache)
 * slot in between `parse` and `route` as they are built.
 */
import type { KeyService } from '../keys/key-service.js';
import type { ExecutorDeps } from '../routing/executor.js';
import type { ModelRouter } from '../routing/router.js';
import { authenticate } from './authenticate.js';
import { compose, type Stage } from './compose.js';
import type { RequestContext } from './context.js';
import { parse } from './parse.js';
import { record, type RecordDeps } from './record.js';
import { respond, type RespondDeps } from './respond.js';
import { route } from './route.js';

export const STAGE_NAMES = ['authenticate', 'record', 'respond', 'parse', 'route'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface PipelineDeps extends RespondDeps, RecordDeps {
  keys: KeyService;
  router: ModelRouter;
  executor: ExecutorDeps;
}

export function buildPipeline(deps: PipelineDeps): (ctx: RequestContext) => Promise<void> {
  const stages: Record<StageName, Stage<RequestContext>> = {
    authenticate: authenticate(deps.keys),
    record: record(deps),
    respond: respond(deps),
    parse: parse(),
    route: route(deps.router, deps.executor),
  };
  return compose(STAGE_NAMES.map((name) => stages[name]));
}
