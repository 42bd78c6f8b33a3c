import { describe, expect, it } from 'vitest';
import { loadBuiltinPrices, PriceTable } from './price-table.js';

const usage = (input: number, output: number, cached = 0, write = 0) => ({
  inputTokens: input,
  outputTokens: output,
  cachedInputTokens: cached,
  cacheWriteTokens: write,
  reasoningTokens: 0,
  estimated: false,
});

describe('price table', () => {
  const table = new PriceTable(loadBuiltinPrices(), { 'my-finetune': { input: 1, output: 2 }, 'groq/llama-3.1-8b-instant': { input: 0.05, output: 0.08 } });

  it('prices current OpenAI, Anthropic, Google and Mistral models', () => {
    for (const m of ['gpt-4o', 'gpt-4.1-mini', 'o4-mini', 'claude-sonnet-4-5', 'claude-haiku-4-5', 'gemini-2.5-pro', 'gemini-2.5-flash', 'mistral-large-latest']) {
      expect(table.lookup(m), m).not.toBeNull();
    }
  });

  it('charges cached reads and cache writes at their own rates, never twice', () => {
    // gpt-4o: 2.5 in, 1.25 cached, 10 out per million
    expect(table.cost(usage(1000, 100, 400), 'gpt-4o')).toBeCloseTo((600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6, 12);
    // claude-sonnet-4-5: 3 in, 0.3 read, 3.75 write, 15 out
    expect(table.cost(usage(1000, 10, 200, 300), 'claude-sonnet-4-5')).toBeCloseTo((500 * 3 + 200 * 0.3 + 300 * 3.75 + 10 * 15) / 1e6, 12);
  });

  it('matches dated snapshots and -latest aliases to their family', () => {
    expect(table.lookup('gpt-4o-2024-08-06')).toEqual(table.lookup('gpt-4o'));
    expect(table.lookup('claude-3-5-haiku-20241022')).toEqual(table.lookup('claude-3-5-haiku'));
  });

  it('uses config overrides, provider-qualified ones first', () => {
    expect(table.cost(usage(1_000_000, 1_000_000), 'my-finetune')).toBeCloseTo(3, 9);
    expect(table.lookup('llama-3.1-8b-instant', 'groq')).toEqual({ input: 0.05, output: 0.08 });
  });

  it('returns null, not 0, for a model with no price', () => {
    expect(table.cost(usage(10, 10), 'totally-unknown-model')).toBeNull();
    expect(table.lookup('llama-3.1-8b-instant', 'together')).toBeNull();
  });

  it('charges long prompts at the long-context tier, for the whole call', () => {
    // gemini-2.5-pro: 1.25/10 up to 200k input tokens, 2.5/15 above
    expect(table.cost(usage(200_000, 1000), 'gemini-2.5-pro')).toBeCloseTo((200_000 * 1.25 + 1000 * 10) / 1e6, 12);
    expect(table.cost(usage(200_001, 1000), 'gemini-2.5-pro')).toBeCloseTo((200_001 * 2.5 + 1000 * 15) / 1e6, 12);
    const tiered = new PriceTable({}, { m: { input: 1, output: 1, tiers: [{ above_input_tokens: 10, input: 2, output: 2 }, { above_input_tokens: 100, input: 3, output: 3 }] } });
    expect(tiered.cost(usage(50, 0), 'm')).toBeCloseTo(100 / 1e6, 15);
    expect(tiered.cost(usage(500, 0), 'm')).toBeCloseTo(1500 / 1e6, 15);
  });
});
