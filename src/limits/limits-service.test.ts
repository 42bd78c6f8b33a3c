import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical.js';
import { Cancellation } from '../cancellation.js';
import { loadConfig } from '../config/load.js';
import { LlmopsError } from '../errors.js';
import { openAIChat } from '../inbound/openai-chat.js';
import type { Principal } from '../keys/key-service.js';
import { createLogger } from '../logger.js';
import type { RequestContext } from '../pipeline/context.js';
import { loadBuiltinPrices, PriceTable } from '../pricing/price-table.js';
import { createProviders } from '../providers/registry.js';
import { ModelRouter } from '../routing/router.js';
import { LimitsService } from './limits-service.js';
import { MemoryLimitsState } from './memory/memory-state.js';
import { chatInputTokens } from './token-estimate.js';
import type { KeyLimits } from './schema.js';

const NOW = Date.parse('2026-11-24T10:00:00Z');

function service(doc: Record<string, unknown>, log = createLogger('silent'), clock = () => NOW): LimitsService {
  const config = loadConfig({
    env: {},
    document: { providers_from_env: false, providers: { demo: { type: 'demo' } }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } }, ...doc },
  });
  return new LimitsService({
    limits: config.limits,
    budgets: config.budgets,
    state: new MemoryLimitsState(clock),
    prices: new PriceTable(loadBuiltinPrices(), config.pricing),
    router: new ModelRouter(config, createProviders(config.providers)),
    log,
    clock,
  });
}

function principal(name: string, opts: { team?: string; limits?: KeyLimits } = {}): Principal {
  return { kind: 'key', keyId: `key_${name}`, name, allows: () => true, canRead: false, metadata: opts.team ? { team: opts.team } : null, limits: opts.limits ?? null };
}

function ctx(p: Principal, opts: { user?: string; feature?: string; maxTokens?: number; headers?: Record<string, string> } = {}): RequestContext {
  const body = { model: 'demo', messages: [{ role: 'user', content: 'hello' }], ...(opts.maxTokens ? { max_tokens: opts.maxTokens } : {}) };
  const parsed = openAIChat.parse(body);
  if (parsed.kind !== 'chat') throw new Error('chat expected');
  return {
    callId: 'c',
    traceId: 't',
    parentId: null,
    startedAt: NOW,
    t0: 0,
    inbound: openAIChat,
    http: { headers: opts.headers ?? {}, body, rawBody: undefined, cancel: new Cancellation(), headersSent: false, sendJson: () => undefined, startStream: () => undefined, write: async () => undefined, end: () => undefined },
    principal: p,
    tags: { user: opts.user ?? null, feature: opts.feature ?? null, session: null, metadata: null },
    request: { kind: 'chat', body: parsed.request },
    stream: false,
    requestedModel: 'demo',
    attempts: [],
    costUsd: null,
    cost: null,
    costSource: null,
    finishReason: null,
    ttftMs: null,
    httpStatus: 0,
  };
}

async function refusal(p: Promise<unknown>): Promise<LlmopsError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LlmopsError);
  return err as LlmopsError;
}

describe('LimitsService', () => {
  it("applies a key's own limits over limits.keys.<name> over per_key, field by field", async () => {
    const s = service({ limits: { per_key: { rpm: 100, tpm: 9000 }, keys: { alpha: { rpm: 50 } } } });
    const c = ctx(principal('alpha', { limits: { rpm: 7 } }));
    await s.admit(c);
    expect(c.responseHeaders).toMatchObject({ 'x-ratelimit-limit-requests': '7', 'x-ratelimit-limit-tokens': '9000' });
    const d = ctx(principal('alpha'));
    await s.admit(d);
    expect(d.responseHeaders?.['x-ratelimit-limit-requests']).toBe('50');
  });

  it('reports the tightest limit in the headers', async () => {
    const s = service({ limits: { per_key: { rpm: 100 }, per_team: { rpm: 3 } } });
    const c = ctx(principal('k', { team: 'search' }));
    await s.admit(c);
    expect(c.responseHeaders).toMatchObject({ 'x-ratelimit-limit-requests': '3', 'x-ratelimit-remaining-requests': '2' });
  });

  it("takes the team from the key's metadata and refuses per team across keys", async () => {
    const s = service({ limits: { teams: { search: { rpm: 2 } } } });
    await s.admit(ctx(principal('a', { team: 'search' })));
    await s.admit(ctx(principal('b', { team: 'search' })));
    const err = await refusal(s.admit(ctx(principal('c', { team: 'search' }))));
    expect(err.code).toBe('rate_limit_exceeded');
    expect(err.message).toContain('team "search"');
    expect(err.retryAfterMs).toBe(30_000);
    // Another team is not affected; a key with no team has no team limit.
    expect(await s.admit(ctx(principal('d', { team: 'ads' })))).toBeNull();
    expect(await s.admit(ctx(principal('e')))).toBeNull();
  });

  it('names the budget, its subject, the calendar reset in the configured zone, and uses budgets.status', async () => {
    const s = service({ budgets: { timezone: 'Asia/Tokyo', status: 429, rules: [{ name: 'per-user', scope: 'user', limit_usd: 0.0001, window: 'day' }] } });
    // 200 output tokens of demo-chat cost at most $0.00012: more than the whole budget.
    const err = await refusal(s.admit(ctx(principal('k'), { user: 'alice', maxTokens: 200 })));
    expect(err.code).toBe('budget_exceeded');
    expect(err.status).toBe(429);
    expect(err.message).toContain("Budget 'per-user' (user alice) cannot cover this request");
    expect(err.message).toContain('daily (Asia/Tokyo)');
    expect(err.message).toContain('2026-11-24T15:00:00.000Z'); // midnight in Tokyo
    expect(err.retryAfterMs).toBe(Date.parse('2026-11-24T15:00:00Z') - NOW);
    // Users without the tag are not under a per-user budget.
    expect(await s.admit(ctx(principal('k'), { maxTokens: 200 }))).toBeNull();
  });

  it('matches key budgets by key name or id, and only the listed subjects', async () => {
    const s = service({ budgets: { rules: [{ name: 'ci', scope: 'key', match: ['ci'], limit_usd: 1, window: 'month' }] } });
    const t = await s.admit(ctx(principal('ci')));
    expect(t?.budgets.map((b) => [b.budget.name, b.subject])).toEqual([['ci', 'key_ci']]);
    expect(await s.admit(ctx(principal('other')))).toBeNull();
  });

  it('refuses over per_request_max_usd unless approved, before touching any counter', async () => {
    const s = service({ budgets: { per_request_max_usd: 0.001, rules: [{ name: 'all', scope: 'global', limit_usd: 10, window: 'day' }] } });
    const err = await refusal(s.admit(ctx(principal('k'), { maxTokens: 10_000 })));
    expect(err.code).toBe('request_cost_too_high');
    expect(err.param).toBe('max_tokens');
    const ok = await s.admit(ctx(principal('k'), { maxTokens: 10_000, headers: { 'x-llmops-approve-cost': 'true' } }));
    expect(ok?.amountNano).toBeGreaterThan(0.006 * 1e9);
  });

  it('reserves at the dearest target the route may use: fallbacks and context-length fallbacks too', async () => {
    // Bug: the reservation used the route's first target's price whatever served the call.
    const prices = new PriceTable(loadBuiltinPrices(), {});
    const worst = (model: string, output: number): number =>
      prices.cost({ inputTokens: chatInputTokens(ctx(principal('k')).request!.body as ChatRequest), outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }, model, 'openai')!;
    expect(worst('gpt-4o', 100)).toBeGreaterThan(worst('gpt-4o-mini', 100) * 10);
    const budgets = { per_request_max_usd: 0.005, rules: [{ name: 'all', scope: 'global', limit_usd: 10, window: 'day' }] };
    const providers = { demo: { type: 'demo' }, openai: { type: 'openai', api_key: 'sk-test' } };
    const mini = { provider: 'openai', model: 'gpt-4o-mini' };
    const large = { provider: 'openai', model: 'gpt-4o' };

    // A cheap primary with a dear fallback: the fallback's price is the worst case.
    const fallback = service({ providers, budgets, models: { demo: { targets: [mini, large] } } });
    const t = await fallback.admit(ctx(principal('k'), { maxTokens: 100 }));
    expect(t!.amountNano / 1e9).toBeCloseTo(worst('gpt-4o', 100), 8);
    // The same worst case decides the per-request maximum, and the refusal names the model it priced.
    const err = await refusal(fallback.admit(ctx(principal('k'), { maxTokens: 1000 })));
    expect(err.code).toBe('request_cost_too_high');
    expect(err.message).toContain("at gpt-4o's price");

    // A context-length fallback counts with its own output cap.
    const context = service({ providers, budgets, models: { demo: { targets: [mini], context_fallback: [{ ...large, max_output_tokens: 40 }] } } });
    const c = await context.admit(ctx(principal('k'), { maxTokens: 100 }));
    expect(c!.amountNano / 1e9).toBeCloseTo(Math.max(worst('gpt-4o', 40), worst('gpt-4o-mini', 100)), 8);

    // A single target: its own price, as before.
    const single = service({ providers, budgets, models: { demo: { targets: [mini] } } });
    expect((await single.admit(ctx(principal('k'), { maxTokens: 100 })))!.amountNano / 1e9).toBeCloseTo(worst('gpt-4o-mini', 100), 8);
  });

  it('settles to the real cost, and alerts once when the soft threshold is crossed', async () => {
    const lines: string[] = [];
    const s = service({ budgets: { soft_threshold: 0.5, rules: [{ name: 'g', scope: 'global', limit_usd: 0.001, window: 'day' }] } }, createLogger('warn', (l) => void lines.push(l)));
    for (let i = 0; i < 3; i++) {
      const c = ctx(principal('k'), { maxTokens: 100 });
      const t = await s.admit(c);
      c.costUsd = 0.0002;
      await s.settle(t!, c);
    }
    const [spent] = await s.state.spend([{ key: `b:g:2026-11-24:*`, bucketMs: 0, buckets: 0 }], NOW);
    expect(spent).toBe(600_000); // nano-USD: exactly 3 x $0.0002, nothing reserved left
    const alerts = await s.state.alerts(10);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ budget: 'g', subject: '*', window: '2026-11-24', threshold: 0.5 });
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['budget soft threshold crossed']);
  });
});
