import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { redactConfig } from './redact.js';

describe('redactConfig', () => {
  it('hides every secret a config can hold and keeps the rest', () => {
    const cfg = loadConfig({
      env: {},
      document: {
        store: { url: 'postgres://llmops:s3cret@db:5432/llmops' },
        redis: { url: 'redis://:r3dis@cache:6379', key_prefix: 'llmops' },
        providers: {
          openai: { api_key: 'sk-openai-secret' },
          local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:8000/v1', headers: { 'x-tenant': 'acme', authorization: 'Bearer abc' } },
          azure: { type: 'azure-openai', api_key: 'az-secret', base_url: 'https://x.openai.azure.com', api_version: '2024-10-21' },
        },
        models: { chat: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] } },
        keys: [{ name: 'ci', key: 'sk-config-key-0123456789' }],
        traces: { capture: { by_key: { ci: 'metadata' } } },
        otel: { export: { endpoint: 'http://collector:4318/v1/traces', headers: { 'api-key': 'otel-secret' } } },
      },
    });
    const shown = JSON.stringify(redactConfig(cfg));
    for (const secret of ['s3cret', 'r3dis', 'sk-openai-secret', 'Bearer abc', 'az-secret', 'sk-config-key-0123456789', 'otel-secret', 'acme']) {
      expect(shown, secret).not.toContain(secret);
    }
    const r = redactConfig(cfg) as typeof cfg;
    expect(r.store.url).toBe('postgres://llmops:***@db:5432/llmops');
    expect(r.redis!.url).toBe('redis://:***@cache:6379');
    expect(r.redis!.key_prefix).toBe('llmops');
    expect(r.providers.azure).toMatchObject({ api_key: '[redacted]', api_version: '2024-10-21', base_url: 'https://x.openai.azure.com' });
    expect(r.keys[0]).toMatchObject({ name: 'ci', key: '[redacted]' });
    expect(r.traces.capture.by_key).toEqual({ ci: 'metadata' });
    expect(r.models.chat!.targets[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini' });
  });
});
