/**
 * `DELETE /admin/cache` (admin key): drops every cached answer, exact and semantic, e.g.
 * after bad answers were cached. 404 `not_found` when the gateway has no `cache:`.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { requireAdmin } from '../api/access.js';
import { adminActor, type AuditLog } from '../audit/audit-log.js';
import { LlmopsError } from '../errors.js';
import type { KeyService } from '../keys/key-service.js';
import type { ResponseCache } from './response-cache.js';

export function cacheApi(deps: { cache: ResponseCache | undefined; keys: KeyService; audit: AuditLog }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.delete('/admin/cache', async (req) => {
      await requireAdmin(deps.keys, req);
      if (!deps.cache) throw new LlmopsError('not_found', 'This gateway has no response cache (no `cache:` section in its config).');
      await deps.cache.clear();
      await deps.audit.record(adminActor(req), 'cache.clear', null, { backend: deps.cache.backend.kind });
      return { object: 'cache.cleared', backend: deps.cache.backend.kind };
    });
  };
}
