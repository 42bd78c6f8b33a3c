/**
 * The human review queue's HTTP routes (admin or read-role keys, like the rest of `/api`):
 * `GET /api/review` lists items (`?status=open|claimed|labeled|all`, `limit`),
 * `POST /api/review/:id/claim` takes one for the caller, and `POST /api/review/:id/label`
 * `{label: good|bad, category?, note?}` closes it and stores the label as feedback on the
 * trace (source `reviewer`: `review` = 1/0, and `review_category` when a category is given).
 * The queue is always readable; items arrive only when `guardrails:` is configured.
 */
import { randomUUID } from 'node:crypto';
import { requireReader } from './access.js';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LlmopsError } from '../errors.js';
import { parseBody } from '../inbound/validation.js';
import type { KeyService, Principal } from '../keys/key-service.js';
import type { FeedbackRecord, Store } from '../store/types.js';

/** A claim not labelled within this time may be taken over by another reviewer. */
export const CLAIM_STALE_MS = 30 * 60_000;

const LabelBody = z.strictObject({
  label: z.enum(['good', 'bad']),
  category: z.string().min(1).max(100).optional(),
  note: z.string().max(10_000).optional(),
});

const STATUSES = ['open', 'claimed', 'labeled', 'all'] as const;

function reviewer(p: Principal): string {
  return p.kind === 'admin' ? 'admin' : (p.keyId ?? p.name);
}

function feedbackId(): string {
  return `fb_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

export function reviewApi(deps: { store: Store; keys: KeyService }): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const requireRead = (req: FastifyRequest): Promise<Principal> => requireReader(deps.keys, req);

    app.get<{ Querystring: Record<string, string | undefined> }>('/api/review', async (req) => {
      await requireRead(req);
      const status = req.query.status ?? 'open';
      if (!(STATUSES as readonly string[]).includes(status)) {
        throw new LlmopsError('invalid_request', `Invalid request: status: expected one of ${STATUSES.join(', ')}`, { param: 'status' });
      }
      const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 50) || 50));
      const data = await deps.store.listReviewItems({ status: status as (typeof STATUSES)[number], limit });
      return { object: 'list', status, data };
    });

    app.post<{ Params: { id: string } }>('/api/review/:id/claim', async (req) => {
      const who = reviewer(await requireRead(req));
      const item = await deps.store.claimReviewItem(req.params.id, who, Date.now(), CLAIM_STALE_MS);
      if (!item) throw new LlmopsError('not_found', `No review item '${req.params.id}'.`);
      if (item.status === 'labeled') throw new LlmopsError('conflict', `Review item '${item.id}' is already labelled.`);
      if (item.claimed_by !== who) throw new LlmopsError('conflict', `Review item '${item.id}' is claimed by another reviewer.`);
      return item;
    });

    app.post<{ Params: { id: string } }>('/api/review/:id/label', async (req, reply) => {
      const p = await requireRead(req);
      const who = reviewer(p);
      const body = parseBody(LabelBody, req.body);
      const now = Date.now();
      const item = await deps.store.labelReviewItem(req.params.id, { label: body.label, category: body.category ?? null, note: body.note ?? null, by: who, at: now });
      if (!item) throw new LlmopsError('not_found', `No review item '${req.params.id}'.`);
      if (item.labeled_by !== who || item.labeled_at !== now) {
        throw new LlmopsError('conflict', item.status === 'labeled' ? `Review item '${item.id}' is already labelled.` : `Review item '${item.id}' is claimed by another reviewer.`);
      }
      const base = { trace_id: item.trace_id, call_id: item.call_id, source: 'reviewer' as const, key_id: p.keyId ?? (p.kind === 'admin' ? 'admin' : null), created_at: now };
      const feedback: FeedbackRecord[] = [
        { ...base, id: feedbackId(), name: 'review', value_number: body.label === 'good' ? 1 : 0, value_string: null, value_type: 'boolean', comment: body.note ?? null },
      ];
      if (body.category) {
        feedback.push({ ...base, id: feedbackId(), name: 'review_category', value_number: null, value_string: body.category, value_type: 'category', comment: null });
      }
      for (const f of feedback) await deps.store.insertFeedback(f);
      return reply.code(201).send({ item, feedback });
    });
  };
}
