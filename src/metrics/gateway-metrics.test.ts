import { describe, expect, it } from 'vitest';
import { GatewayMetrics, MAX_LEARNED_MODELS } from './gateway-metrics.js';

const make = () =>
  new GatewayMetrics({
    knownModels: ['chat', 'openai/gpt-4o'],
    pricedModels: ['gpt-4o-mini'],
    providers: ['openai'],
    processMetrics: false,
    sinkStats: { queued: 0, queuedBytes: 0, written: 0, dropped: 0, rejected: 0, writeFailures: 0 },
  });

describe('GatewayMetrics model label', () => {
  it('keeps known, priced and served models; anything else is other', () => {
    const m = make();
    const failed = { status: 'error' as const, provider_model: null };
    expect(m.modelLabel({ requested_model: 'chat', ...failed })).toBe('chat');
    expect(m.modelLabel({ requested_model: 'gpt-4o-mini', ...failed })).toBe('gpt-4o-mini');
    expect(m.modelLabel({ requested_model: 'openai/gpt-4o-mini', ...failed })).toBe('openai/gpt-4o-mini');
    expect(m.modelLabel({ requested_model: 'nope/gpt-4o-mini', ...failed })).toBe('other');
    expect(m.modelLabel({ requested_model: 'random-string', ...failed })).toBe('other');
    expect(m.modelLabel({ requested_model: null, ...failed })).toBe('none');
    expect(m.modelLabel({ requested_model: 'openai/ft-1', status: 'ok', provider_model: 'ft-1' })).toBe('openai/ft-1');
    // Once learned, it stays a label even when a later call fails.
    expect(m.modelLabel({ requested_model: 'openai/ft-1', ...failed })).toBe('openai/ft-1');
  });

  it('learns at most MAX_LEARNED_MODELS served models', () => {
    const m = make();
    for (let i = 0; i < MAX_LEARNED_MODELS; i++) expect(m.modelLabel({ requested_model: `openai/m${i}`, status: 'ok', provider_model: `m${i}` })).toBe(`openai/m${i}`);
    expect(m.modelLabel({ requested_model: 'openai/one-too-many', status: 'ok', provider_model: 'x' })).toBe('other');
  });

  it('each instance has its own registry', async () => {
    const a = make();
    const b = make();
    expect(a.registry).not.toBe(b.registry);
    expect(await a.registry.metrics()).toContain('llmops_requests_total');
  });
});
