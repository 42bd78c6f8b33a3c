// The routing examples in llmops.example.yaml must stay valid config.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

it('llmops.example.yaml loads, with its cost and complexity routes', () => {
  const env = { OPENAI_API_KEY: 'x', ANTHROPIC_API_KEY: 'x', GEMINI_API_KEY: 'x', AZURE_OPENAI_API_KEY: 'x', AZURE_OPENAI_ENDPOINT: 'https://x.example', LLMOPS_CI_KEY: 'sk-llmops-0123456789abcdef' };
  const cfg = loadConfig({ path: join(import.meta.dirname, '..', '..', 'llmops.example.yaml'), env });
  expect(cfg.models.cheapest?.strategy).toBe('cost');
  expect(cfg.models.auto?.tiers?.map((t) => t.name)).toEqual(['small', 'medium', 'large']);
  expect(cfg.models.auto?.trim).toEqual({ max_input_tokens: 32000, keep_recent: 4 });
});
