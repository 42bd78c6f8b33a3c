/**
 * HTTP routes of rate limits and budgets: `GET /api/budgets` (admin or read-role keys) and
 * `PUT /admin/keys/:id/limits` (admin) to set or clear one key's own limits.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { requireAdmin, requireReader } from '../api/access.js';
import { adminActor, type AuditLog } from '../audit/audit-log.js';
import { LlmopsError } from '../errors.js';
import { parseBody } from '../inbound/validation.js';
import type { KeyService } from '../keys/key-service.js';
import { budgetReport } from './budget-report.js';
import type { LimitsService } from './limits-service.js';
import { KeyLimitsSchema } from './schema.js';

const PutLimitsBody = z.strictObject({ limits: KeyLimitsSchema.nullable() });

export function limitsApi(deps: { limits: LimitsService | undefined; keys: KeyService; audit: AuditLog }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    app.get<{ Querystring: Record<string, string | undefined> }>('/api/budgets', async (req) => {
      await requireReader(deps.keys, req);
      const stored = deps.limits ? (await deps.keys.list()).filter((k) => k.limits?.budget && k.revoked_at === null) : [];
      const keyBudgets = [...deps.keys.staticKeyLimits(), ...stored.map((k) => ({ id: k.id, name: k.name, limits: k.limits }))];
      return budgetReport(deps.limits, keyBudgets, { budget: req.query.budget, scope: req.query.scope, subject: req.query.subject });
    });

    app.put<{ Params: { id: string } }>('/admin/keys/:id/limits', async (req) => {
      await requireAdmin(deps.keys, req);
      const body = parseBody(PutLimitsBody, req.body);
      if (body.limits && !deps.limits) {
        throw new LlmopsError('invalid_request', 'Per-key limits are not enforced: this gateway has no `limits:` or `budgets:` section in its config (add `limits: {}` to enable them).', { param: 'limits' });
      }
      const k = await deps.keys.setLimits(req.params.id, body.limits);
      if (!k) throw new LlmopsError('not_found', `No key with id '${req.params.id}'.`);
      await deps.audit.record(adminActor(req), 'key.limits', k.id, { name: k.name, limits: body.limits });
      return k;
    });
  };
}
