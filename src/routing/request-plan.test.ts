import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical.js';
import { ConfigSchema } from '../config/schema.js';
import { PriceTable } from '../pricing/price-table.js';
import type { Provider, ProviderType } from '../providers/types.js';
import { capabilitiesOf } from './capabilities.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { planChat, routingAttributes } from './request-plan.js';
import { ModelRouter } from './router.js';

const provider = (name: string, type: ProviderType = 'openai-compatible'): Provider => ({ name, type }) as Provider;
const providers = new Map([
  ['oa', provider('oa', 'openai')],
  ['an', provider('an', 'anthropic')],
  ['x', provider('x')],
]);
const prices = new PriceTable({ cheap: { input: 0.1, output: 0.4 }, mid: { input: 1, output: 4 }, pricey: { input: 10, output: 40 } });
const breakerOpts = { failure_threshold: 1, error_rate_threshold: 0.5, min_requests: 10, window_ms: 10_000, cooldown_ms: 60_000 };

function router(models: Record<string, unknown>): ModelRouter {
  return new ModelRouter(ConfigSchema.parse({ models }), providers);
}
const chat = (extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'r', messages: [{ role: 'user', content: 'hello there' }], ...extra });

describe('capabilities', () => {
  it('come from the data file, with snapshots falling back to their family and config overrides winning', () => {
    expect(capabilitiesOf('gpt-4o-2024-08-06')).toEqual({ contextWindow: 128000, tools: true, vision: true });
    expect(capabilitiesOf('gpt-3.5-turbo').vision).toBe(false);
    expect(capabilitiesOf('openai/o1-mini').tools).toBe(false);
    expect(capabilitiesOf('my-local-model')).toEqual({ contextWindow: null, tools: true, vision: true });
    expect(capabilitiesOf('gpt-4o', { context_window: 8000, vision: false })).toEqual({ contextWindow: 8000, tools: true, vision: false });
  });
});

describe('cost strategy', () => {
  const r = router({
    r: {
      strategy: 'cost',
      targets: [
        { provider: 'x', model: 'pricey' },
        { provider: 'x', model: 'unpriced' },
        { provider: 'x', model: 'mid', context_window: 1000, vision: false },
        { provider: 'x', model: 'cheap', context_window: 50, tools: false },
      ],
    },
  }).resolve('r');

  it('orders capable targets by estimated cost, unpriced last', () => {
    const plan = planChat(r, chat(), { prices, breaker: new CircuitBreaker(breakerOpts) });
    expect(plan.route.targets.map((t) => t.model)).toEqual(['cheap', 'mid', 'pricey', 'unpriced']);
    expect(plan.route.strategy).toBe('fallback');
    const first = plan.decision.cost!.order[0]!;
    // 8 input tokens (3 + 3 per message + 2 of text), 500 expected output tokens at 0.1 / 0.4 USD per million.
    expect(plan.decision.cost!.input_tokens).toBe(8);
    expect(first).toMatchObject({ target: 'x/cheap', healthy: true });
    expect(first.estimated_usd).toBeCloseTo((8 * 0.1 + 500 * 0.4) / 1e6, 12);
  });

  it('drops targets that lack tools, vision or context, and says why', () => {
    const deps = { prices, breaker: new CircuitBreaker(breakerOpts) };
    const tools = planChat(r, chat({ tools: [{ type: 'function', function: { name: 'f' } }] }), deps);
    expect(tools.route.targets.map((t) => t.model)).toEqual(['mid', 'pricey', 'unpriced']);
    expect(tools.decision.cost!.excluded).toEqual([{ target: 'x/cheap', reason: 'no tool support' }]);
    const image = chat({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:,' } }] }] });
    expect(planChat(r, image, deps).route.targets.map((t) => t.model)).toEqual(['pricey', 'unpriced']);
    const long = planChat(r, chat({ max_tokens: 45 }), deps);
    expect(long.route.targets.map((t) => t.model)).toEqual(['mid', 'pricey', 'unpriced']);
    expect(long.decision.cost!.excluded[0]!.reason).toBe('context window 50 < 8 input + 45 output tokens');
  });

  it('puts targets with an open circuit after the healthy ones', () => {
    const breaker = new CircuitBreaker(breakerOpts);
    breaker.onFailure('x/cheap');
    const plan = planChat(r, chat(), { prices, breaker });
    expect(plan.route.targets.map((t) => t.model)).toEqual(['mid', 'pricey', 'unpriced', 'cheap']);
    expect(plan.decision.cost!.order.at(-1)!.healthy).toBe(false);
  });

  it('answers a request no target can serve with a 400 naming each reason', () => {
    const only = router({ r: { strategy: 'cost', targets: [{ provider: 'x', model: 'cheap', vision: false }] } }).resolve('r');
    const image = chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:,' } }] }] });
    const plan = planChat(only, image, { prices, breaker: new CircuitBreaker(breakerOpts) });
    expect(plan.error?.code).toBe('no_capable_target');
    expect(plan.error?.status).toBe(400);
    expect(plan.error?.message).toContain('x/cheap (no image input)');
  });
});

describe('complexity strategy', () => {
  const r = router({
    r: {
      strategy: 'complexity',
      tiers: [
        { name: 'small', max_score: 0.3, targets: [{ provider: 'x', model: 's' }] },
        { name: 'medium', max_score: 0.6, targets: [{ provider: 'x', model: 'm' }] },
        { name: 'large', targets: [{ provider: 'x', model: 'l1' }, { provider: 'x', model: 'l2' }] },
      ],
    },
  }).resolve('r');
  const deps = { prices, breaker: new CircuitBreaker(breakerOpts) };

  it('sends easy requests to the small tier, with the larger tiers as fallbacks', () => {
    const plan = planChat(r, chat(), deps);
    expect(plan.decision.complexity).toMatchObject({ tier: 'small', score: 0 });
    expect(plan.route.targets.map((t) => t.model)).toEqual(['s', 'm', 'l1', 'l2']);
    expect(routingAttributes(plan.decision)).toMatchObject({ 'llmops.routing.strategy': 'complexity', 'llmops.routing.tier': 'small', 'llmops.routing.complexity_score': 0 });
  });

  it('sends hard requests to the large tier only', () => {
    const hard = 'Prove step by step why this algorithm is correct, then analyze its complexity:\n```python\ndef f(xs):\n    return sorted(xs)\n```';
    const plan = planChat(r, chat({ messages: [{ role: 'user', content: hard }] }), deps);
    expect(plan.decision.complexity!.tier).toBe('large');
    expect(plan.decision.complexity!.score).toBeGreaterThan(0.6);
    expect(plan.route.targets.map((t) => t.model)).toEqual(['l1', 'l2']);
  });

  it('rejects bad tier configs with messages that name the key', () => {
    const bad = ConfigSchema.safeParse({ models: { r: { strategy: 'complexity', tiers: [{ name: 'a', targets: [{ provider: 'x', model: 'y' }] }, { name: 'b', targets: [{ provider: 'x', model: 'z' }] }] } } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toContain('models.r.tiers.0.max_score: required on every tier but the last');
    const noTargets = ConfigSchema.safeParse({ models: { r: { strategy: 'fallback' } } });
    expect(noTargets.error!.issues[0]!.path.join('.')).toBe('models.r.targets');
  });
});

describe('output caps', () => {
  const r = router({
    r: { max_output_tokens: 1000, targets: [{ provider: 'oa', model: 'a' }, { provider: 'an', model: 'b', max_output_tokens: 300 }, { provider: 'x', model: 'c' }] },
  }).resolve('r');
  const deps = { prices, breaker: new CircuitBreaker(breakerOpts) };

  it('sets a missing max_tokens in the field each provider expects, and lowers a larger one', () => {
    const plan = planChat(r, chat(), deps);
    const [oa, an, x] = plan.route.targets;
    expect(plan.forTarget(oa!, undefined).body.max_completion_tokens).toBe(1000);
    expect(plan.forTarget(x!, undefined).body.max_tokens).toBe(1000);
    expect(plan.forTarget(an!, undefined).body.max_tokens).toBe(300);
    expect(plan.decision.output_cap).toEqual({ requested: null, applied: 300, target: 'an/b' });
    const big = planChat(r, chat({ max_tokens: 5000, max_completion_tokens: 4000 }), deps);
    expect(big.forTarget(oa!, undefined).body).toMatchObject({ max_tokens: 1000, max_completion_tokens: 1000 });
  });

  it('leaves a smaller max_tokens alone and keeps the caller request untouched', () => {
    const req = chat({ max_tokens: 50 });
    const plan = planChat(r, req, deps);
    expect(plan.forTarget(plan.route.targets[0]!, undefined).body).toBe(req);
    const capped = chat({ max_tokens: 5000 });
    planChat(r, capped, deps).forTarget(plan.route.targets[0]!, undefined);
    expect(capped.max_tokens).toBe(5000);
  });

  it('patches an Anthropic passthrough body, and drops passthrough when the conversation was trimmed', () => {
    const native = { format: 'anthropic' as const, body: { model: 'r', max_tokens: 4096, messages: [] } };
    const plan = planChat(r, chat({ max_tokens: 4096 }), deps);
    expect(plan.forTarget(plan.route.targets[1]!, native).native?.body.max_tokens).toBe(300);
    const t = router({ r: { trim: { max_input_tokens: 20 }, targets: [{ provider: 'an', model: 'b' }] } }).resolve('r');
    const long = chat({ messages: [{ role: 'user', content: 'a long old question '.repeat(20) }, { role: 'assistant', content: 'ok' }, { role: 'user', content: 'short' }] });
    const tp = planChat(t, long, deps);
    expect(tp.decision.trim).toMatchObject({ dropped_messages: 2 });
    const sent = tp.forTarget(t.targets[0]!, native);
    expect(sent.native).toBeUndefined();
    expect(sent.body.messages).toEqual([{ role: 'user', content: 'short' }]);
  });

  it('plans only routes that need it', () => {
    expect(router({ r: { targets: [{ provider: 'x', model: 'c' }] } }).resolve('r').planned).toBe(false);
    expect(r.planned).toBe(true);
  });
});
