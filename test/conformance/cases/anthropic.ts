/** Conformance case for the `anthropic` provider (Messages API, translated from canonical). */
import { expect } from 'vitest';
import { createAnthropicProvider } from '../../../src/providers/anthropic/index.js';
import { anthropicDialect } from '../../mock-upstreams/anthropic.js';
import type { ProviderCase, SuiteRequest } from '../provider-case.js';

const WEATHER_SCHEMA = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** What Anthropic must receive for each suite request (besides `model` and `stream`). */
const EXPECTED: Record<SuiteRequest, Record<string, unknown>> = {
  basic: {
    max_tokens: 200,
    system: 'You are terse.',
    messages: [
      { role: 'user', content: 'Say hello.' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Again, please.' },
    ],
    stop_sequences: ['END'],
    temperature: 0.3,
    top_p: 0.9,
  },
  tools: {
    max_tokens: 100,
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: WEATHER_SCHEMA }],
    tool_choice: { type: 'auto' },
  },
  'tool-result': {
    max_tokens: 100,
    messages: [
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_abc', name: 'get_weather', input: { city: 'Paris' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_abc', content: '{"temp_c":18,"sky":"clear"}' }] },
    ],
    tools: [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
  },
  image: {
    max_tokens: 50,
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
        ],
      },
    ],
  },
};

export const anthropicCase: ProviderCase = {
  name: 'anthropic',
  dialect: anthropicDialect,
  create: (url) => createAnthropicProvider('anthropic', { api_key: 'sk-ant-test-key', base_url: url }),
  model: 'claude-sonnet-4-5',
  supports: { embeddings: false, cachedTokens: true, reasoningTokens: false, cacheWriteTokens: true },
  checkUpstreamRequest(kind, _request, upstream, stream) {
    expect(upstream.method).toBe('POST');
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.headers['x-api-key']).toBe('sk-ant-test-key');
    expect(upstream.headers['anthropic-version']).toBe('2023-06-01');
    expect(upstream.headers['content-type']).toBe('application/json');
    expect(upstream.headers.authorization).toBeUndefined();
    const { model, stream: sentStream, ...rest } = upstream.body as Record<string, unknown>;
    expect(model).toBe('claude-sonnet-4-5');
    expect(sentStream).toBe(stream ? true : undefined);
    expect(rest).toEqual(EXPECTED[kind]);
  },
};
