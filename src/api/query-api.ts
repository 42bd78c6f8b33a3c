/**
 * The query API under `/api/*`: traces (filtered, cursor-paginated), one trace's whole tree
 * with feedback, time-series metrics, cost totals, sessions and users (admin key), and
 * feedback (any valid key: an inference key can rate the answers it got).
 */
import { randomUUID } from 'node:crypto';
import { principalOf, requireReader } from './access.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { LlmopsError } from '../errors.js';
import { parseBody } from '../inbound/validation.js';
import type { KeyService, Principal } from '../keys/key-service.js';
import type { Bucket, FeedbackRecord, GroupBy, Store, TraceFilter } from '../store/types.js';

const GROUPS = ['model', 'provider', 'feature', 'user', 'key', 'environment', 'prompt_version'] as const satisfies readonly GroupBy[];
const BUCKETS = ['minute', 'hour', 'day'] as const satisfies readonly Bucket[];
const DURATION = /^(\d+)(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** A time: ms since epoch, an ISO date, or a duration back from now (`15m`, `24h`, `7d`). */
export function parseTime(value: string, now: number, param: string): number {
  const d = DURATION.exec(value);
  if (d) return now - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS];
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new LlmopsError('invalid_request', `Invalid request: ${param}: expected ms since epoch, an ISO date or a duration like 24h`, { param });
  return t;
}

function num(q: Record<string, string | undefined>, name: string): number | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new LlmopsError('invalid_request', `Invalid request: ${name}: expected a number`, { param: name });
  return n;
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], param: string): T | undefined {
  if (value === undefined || value === '') return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new LlmopsError('invalid_request', `Invalid request: ${param}: expected one of ${allowed.join(', ')}`, { param });
  }
  return value as T;
}

/** Reads the shared trace filters from a query string (`metadata.KEY=VALUE` for metadata). */
export function filterFromQuery(q: Record<string, string | undefined>, now: number): TraceFilter {
  const f: TraceFilter = {};
  const set = <K extends keyof TraceFilter>(k: K, v: TraceFilter[K] | undefined): void => {
    if (v !== undefined) f[k] = v;
  };
  if (q.from) f.from = parseTime(q.from, now, 'from');
  if (q.since) f.from = parseTime(q.since, now, 'since');
  if (q.to) f.to = parseTime(q.to, now, 'to');
  set('kind', oneOf(q.kind, ['llm', 'span'] as const, 'kind'));
  set('model', q.model || undefined);
  set('provider', q.provider || undefined);
  set('keyId', q.key || undefined);
  set('user', q.user || undefined);
  set('feature', q.feature || undefined);
  set('session', q.session || undefined);
  set('environment', q.environment || undefined);
  set('status', oneOf(q.status, ['ok', 'error'] as const, 'status'));
  set('errorCode', q.error_code || undefined);
  set('cacheStatus', q.cache_status || undefined);
  set('minCostUsd', num(q, 'min_cost'));
  set('maxCostUsd', num(q, 'max_cost'));
  set('minLatencyMs', num(q, 'min_latency_ms'));
  set('maxLatencyMs', num(q, 'max_latency_ms'));
  set('text', q.q || undefined);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(q)) if (k.startsWith('metadata.') && v !== undefined) metadata[k.slice('metadata.'.length)] = v;
  if (Object.keys(metadata).length > 0) f.metadata = metadata;
  return f;
}

const FeedbackBody = z.strictObject({
  trace_id: z.string().min(1).max(128),
  call_id: z.string().min(1).max(64).optional(),
  name: z.string().min(1).max(100),
  value: z.union([z.number(), z.boolean(), z.string().min(1).max(200)]),
  comment: z.string().max(10_000).optional(),
  source: z.enum(['user', 'reviewer', 'judge']).default('user'),
});

type Query = { Querystring: Record<string, string | undefined> };

export function registerQueryApi(app: FastifyInstance, deps: { store: Store; keys: KeyService }): void {
  /** The admin, or a key with the `read` role. */
  const requireAdmin = (req: FastifyRequest): Promise<Principal> => requireReader(deps.keys, req);

  app.get<Query>('/api/traces', async (req) => {
    await requireAdmin(req);
    const limit = Math.min(500, Math.max(1, num(req.query, 'limit') ?? 50));
    const page = await deps.store.searchTraces(filterFromQuery(req.query, Date.now()), limit, req.query.cursor ?? null);
    return { object: 'list', ...page };
  });

  app.get<{ Params: { id: string } }>('/api/traces/:id', async (req) => {
    await requireAdmin(req);
    let calls = await deps.store.getTraceCalls(req.params.id);
    let traceId = req.params.id;
    if (calls.length === 0) {
      const call = await deps.store.getTrace(req.params.id);
      if (!call) throw new LlmopsError('not_found', `No trace or call with id '${req.params.id}'.`);
      traceId = call.trace_id;
      calls = await deps.store.getTraceCalls(traceId);
    }
    const feedback = await deps.store.listFeedback(traceId);
    const totals = calls.reduce(
      (t, c) => ({
        cost_usd: t.cost_usd + (c.kind === 'llm' ? (c.cost_usd ?? 0) : 0),
        input_tokens: t.input_tokens + (c.kind === 'llm' ? (c.input_tokens ?? 0) : 0),
        output_tokens: t.output_tokens + (c.kind === 'llm' ? (c.output_tokens ?? 0) : 0),
      }),
      { cost_usd: 0, input_tokens: 0, output_tokens: 0 },
    );
    return { trace_id: traceId, calls, feedback, totals };
  });

  app.get<Query>('/api/metrics', async (req) => {
    await requireAdmin(req);
    const now = Date.now();
    const bucket = oneOf(req.query.bucket, BUCKETS, 'bucket') ?? 'hour';
    const groupBy = oneOf(req.query.group_by, GROUPS, 'group_by');
    const { from, to, ...filter } = filterFromQuery(req.query, now);
    const data = await deps.store.metrics({ from: from ?? now - 86_400_000, to: to ?? now, bucket, ...(groupBy ? { groupBy } : {}), filter });
    return { object: 'list', bucket, group_by: groupBy ?? null, data };
  });

  app.get<Query>('/api/costs', async (req) => {
    await requireAdmin(req);
    const now = Date.now();
    const groupBy = oneOf(req.query.by ?? req.query.group_by, GROUPS, 'by') ?? 'model';
    const { from, to, ...filter } = filterFromQuery(req.query, now);
    const range = { from: from ?? now - 30 * 86_400_000, to: to ?? now };
    const data = await deps.store.costs({ ...range, groupBy, filter });
    const total = data.reduce((s, r) => s + r.cost_usd, 0);
    return { object: 'list', by: groupBy, ...range, total_cost_usd: total, data };
  });

  app.get<{ Params: { id: string } }>('/api/sessions/:id', async (req) => {
    await requireAdmin(req);
    const s = await deps.store.sessionSummary(req.params.id);
    if (!s) throw new LlmopsError('not_found', `No session '${req.params.id}'.`);
    return s;
  });

  app.get<{ Params: { id: string } }>('/api/users/:id', async (req) => {
    await requireAdmin(req);
    const u = await deps.store.userSummary(req.params.id);
    if (!u) throw new LlmopsError('not_found', `No user '${req.params.id}'.`);
    return u;
  });

  app.post('/api/feedback', async (req, reply) => {
    const p = await principalOf(deps.keys, req);
    const body = parseBody(FeedbackBody, req.body);
    const v = body.value;
    const rec: FeedbackRecord = {
      id: `fb_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      trace_id: body.trace_id,
      call_id: body.call_id ?? null,
      name: body.name,
      value_number: typeof v === 'number' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null,
      value_string: typeof v === 'string' ? v : null,
      value_type: typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'category',
      comment: body.comment ?? null,
      source: body.source,
      key_id: p.keyId ?? (p.kind === 'admin' ? 'admin' : null),
      created_at: Date.now(),
    };
    await deps.store.insertFeedback(rec);
    return reply.code(201).send(rec);
  });
}
