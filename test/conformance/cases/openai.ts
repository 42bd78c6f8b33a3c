/** Conformance cases for the providers that speak OpenAI's wire format. */
import { expect } from 'vitest';
import { createAzureOpenAIProvider } from '../../../src/providers/azure-openai/index.js';
import { createOpenAICompatibleProvider } from '../../../src/providers/openai-compatible/index.js';
import { createOpenAIProvider } from '../../../src/providers/openai/index.js';
import { openAIDialect } from '../../mock-upstreams/openai.js';
import type { ProviderCase } from '../provider-case.js';

const checkOpenAIBody: ProviderCase['checkUpstreamRequest'] = (_kind, request, upstream, stream) => {
  const body = upstream.body as Record<string, unknown>;
  // OpenAI-format upstreams get the request as sent, with the target's model.
  expect(body.messages).toEqual(request.messages);
  expect(body.tools).toEqual(request.tools);
  expect(body.temperature).toEqual(request.temperature);
  expect(body.stream ?? false).toBe(stream);
  if (stream) expect(body.stream_options).toEqual({ include_usage: true });
};

export const openAICase: ProviderCase = {
  name: 'openai',
  dialect: openAIDialect,
  create: (url) => createOpenAIProvider('openai', { api_key: 'sk-test-openai', base_url: `${url}/v1` }),
  model: 'gpt-4o-mini',
  supports: { embeddings: true, cachedTokens: true, reasoningTokens: true, cacheWriteTokens: false },
  checkUpstreamRequest(kind, request, upstream, stream) {
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.headers.authorization).toBe('Bearer sk-test-openai');
    expect((upstream.body as { model: string }).model).toBe('gpt-4o-mini');
    checkOpenAIBody(kind, request, upstream, stream);
  },
};

export const azureCase: ProviderCase = {
  name: 'azure-openai',
  dialect: openAIDialect,
  create: (url) =>
    createAzureOpenAIProvider('azure', { api_key: 'azure-test-key', base_url: url, api_version: '2024-10-21', deployments: { 'gpt-4o': 'prod-gpt4o' } }),
  model: 'gpt-4o',
  supports: { embeddings: true, cachedTokens: true, reasoningTokens: true, cacheWriteTokens: false },
  checkUpstreamRequest(kind, request, upstream, stream) {
    expect(upstream.path).toBe('/openai/deployments/prod-gpt4o/chat/completions?api-version=2024-10-21');
    expect(upstream.headers['api-key']).toBe('azure-test-key');
    expect(upstream.headers.authorization).toBeUndefined();
    checkOpenAIBody(kind, request, upstream, stream);
  },
};

export const openAICompatibleCase: ProviderCase = {
  name: 'openai-compatible (vllm preset, custom base_url)',
  dialect: openAIDialect,
  create: (url) => createOpenAICompatibleProvider('vllm', { preset: 'vllm', base_url: `${url}/v1` }),
  model: 'meta-llama/Llama-3.1-8B-Instruct',
  supports: { embeddings: true, cachedTokens: true, reasoningTokens: true, cacheWriteTokens: false },
  checkUpstreamRequest(kind, request, upstream, stream) {
    expect(upstream.path).toBe('/v1/chat/completions');
    expect(upstream.headers.authorization).toBeUndefined();
    expect((upstream.body as { model: string }).model).toBe('meta-llama/Llama-3.1-8B-Instruct');
    checkOpenAIBody(kind, request, upstream, stream);
  },
};
