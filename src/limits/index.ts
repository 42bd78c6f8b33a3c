/**
 * Rate limits and budgets, assembled from config: the state backend (Redis when `redis:` is
 * configured, else memory) and the service the `limits` stage calls. Nothing is built, and
 * the stage is left out of the pipeline, when neither `limits:` nor `budgets:` is set and no
 * key from config carries limits.
 */
import type { Config } from '../config/load.js';
import type { Logger } from '../logger.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { ModelRouter } from '../routing/router.js';
import type { RedisHandle } from '../state/redis.js';
import { LimitsService } from './limits-service.js';
import { MemoryLimitsState } from './memory/memory-state.js';
import { RedisLimitsState } from './redis/redis-state.js';

export { LimitsService } from './limits-service.js';

export function createLimits(
  config: Pick<Config, 'limits' | 'budgets' | 'keys'>,
  deps: { redis: RedisHandle | undefined; prices: PriceTable; router: ModelRouter; log: Logger },
): LimitsService | undefined {
  if (!config.limits && !config.budgets && !config.keys.some((k) => k.limits)) return undefined;
  const state = deps.redis ? new RedisLimitsState(deps.redis) : new MemoryLimitsState();
  return new LimitsService({ limits: config.limits, budgets: config.budgets, state, prices: deps.prices, router: deps.router, log: deps.log });
}
