/**
 * `GET /api/audit` (admin key): the audit log, newest first. Query: `action` (an action such
 * as `key.create`, or a family: `key`, `config`, `cache`), `since` / `until` (ms since the
 * epoch, an ISO date, or a duration back from now: `24h`, `7d`), `limit` (1–1000, default 100).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { LlmopsError } from '../errors.js';
import type { KeyService } from '../keys/key-service.js';
import type { Store } from '../store/types.js';
import { requireAdmin } from './access.js';
import { parseTime } from './query-api.js';

export function auditApi(deps: { store: Store; keys: KeyService }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Record<string, string | undefined> }>('/api/audit', async (req) => {
      await requireAdmin(deps.keys, req);
      const q = req.query;
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new LlmopsError('invalid_request', 'Invalid request: limit: expected an integer from 1 to 1000', { param: 'limit' });
      }
      const now = Date.now();
      const from = q.since ? parseTime(q.since, now, 'since') : undefined;
      const to = q.until ? parseTime(q.until, now, 'until') : undefined;
      const data = await deps.store.listAuditEvents({ limit, ...(q.action ? { action: q.action } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
      return { object: 'list', data: data.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    });
  };
}
