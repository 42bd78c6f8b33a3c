/**
 * Builds the response cache from the `cache:` config: the exact backend (memory, or
 * Redis when configured) and, with `cache.semantic`, the semantic index and its embedder.
 */
import type { CacheConfig } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { ExecutorDeps } from '../routing/executor.js';
import type { ModelRouter } from '../routing/router.js';
import type { RedisHandle } from '../state/redis.js';
import type { CacheBackend } from './backend.js';
import { MemoryCacheBackend } from './memory/memory-backend.js';
import { RedisCacheBackend } from './redis/redis-backend.js';
import { ResponseCache } from './response-cache.js';
import { LocalEmbedder } from './semantic/local-embedder.js';
import { ProviderEmbedder } from './semantic/provider-embedder.js';
import { SemanticCache } from './semantic/semantic-cache.js';

export interface CreateCacheDeps {
  redis: RedisHandle | undefined;
  prices: PriceTable;
  log: Logger;
  router: ModelRouter;
  executor: ExecutorDeps;
}

/** The response cache, or undefined when caching is not configured (the stage is then left out). */
export function createResponseCache(cfg: CacheConfig | undefined, deps: CreateCacheDeps): ResponseCache | undefined {
  if (!cfg?.enabled) return undefined;
  const kind = cfg.backend ?? (deps.redis ? 'redis' : 'memory');
  let backend: CacheBackend;
  if (kind === 'redis') {
    if (!deps.redis) throw new Error('cache.backend: "redis" needs a top-level `redis:` section with a url');
    backend = new RedisCacheBackend(deps.redis);
  } else {
    backend = new MemoryCacheBackend({ maxEntries: cfg.max_entries, maxBytes: cfg.max_bytes });
  }
  let semantic: SemanticCache | undefined;
  const s = cfg.semantic;
  if (s?.enabled) {
    const local = s.embedder === 'local' ? new LocalEmbedder() : undefined;
    const embedder = local ?? new ProviderEmbedder((s.embedder as { model: string }).model, deps.router, deps.executor);
    semantic = new SemanticCache({
      embedder,
      threshold: s.threshold,
      maxEntries: s.max_entries,
      ...(local ? { dimensions: local.dimensions } : {}),
      redis: kind === 'redis' && deps.redis ? { handle: deps.redis, syncMs: s.sync_ms } : undefined,
      log: deps.log,
    });
  }
  const router = deps.router;
  const answeredBy = (model: string): string | undefined => {
    try {
      return router.resolve(model).answeredBy;
    } catch {
      return undefined; // an unknown model: the route stage answers it
    }
  };
  return new ResponseCache({ config: cfg, backend, semantic, prices: deps.prices, log: deps.log, answeredBy });
}
