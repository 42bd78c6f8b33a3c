import { describe, expect, it } from 'vitest';
import { ConfigError, interpolateEnv, loadConfig } from './load.js';

function problems(document: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig({ document, env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  it('interpolates ${VAR} and ${VAR:-default} everywhere', () => {
    expect(interpolateEnv({ a: ['x-${A}-y', { b: '${B:-fallback}' }], n: 3 }, { A: '1' })).toEqual({ a: ['x-1-y', { b: 'fallback' }], n: 3 });
  });

  it('has working embedded defaults: demo provider and models, providers from env keys', () => {
    const cfg = loadConfig({ env: { OPENAI_API_KEY: 'sk-x', GROQ_API_KEY: 'gsk', ANTHROPIC_API_KEY: 'a' }, path: undefined, document: undefined });
    expect(cfg.source).toBe('defaults');
    expect(Object.keys(cfg.models)).toEqual(['demo', 'demo-embed']);
    expect(cfg.providers.demo).toEqual({ type: 'demo' });
    expect(cfg.providers.openai).toMatchObject({ type: 'openai', api_key: 'sk-x' });
    expect(cfg.providers.anthropic).toMatchObject({ type: 'anthropic', api_key: 'a' });
    expect(cfg.providers.groq).toMatchObject({ type: 'openai-compatible', preset: 'groq', api_key: 'gsk' });
    expect(cfg.store.url).toBe('sqlite:./.llmops/llmops.db');
    expect(cfg.server.port).toBe(8080);
  });

  it('infers provider types from names and presets', () => {
    const cfg = loadConfig({ document: { providers: { openai: { api_key: 'k' }, together: { api_key: 't' }, local: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' } } }, env: {} });
    expect(cfg.providers.openai?.type).toBe('openai');
    expect(cfg.providers.together?.type).toBe('openai-compatible');
    expect(cfg.providers.local?.type).toBe('openai-compatible');
  });

  it('names every bad key', () => {
    const p = problems({
      server: { port: 'eighty', colour: 'blue' },
      providers: { mystery: { api_key: 'x' }, openai: { api_key: '${NOPE}', base_url: 'not a url' } },
      models: { chat: { strategy: 'weighted', targets: [{ provider: 'openai', model: 'gpt-4o' }] }, other: { targets: [] } },
      routing: { retries: -1 },
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'providers.openai.api_key: environment variable NOPE is not set',
        expect.stringMatching(/^server\.port: /),
        "server: unknown key 'colour'",
        expect.stringMatching(/^models\.other\.targets: /),
        expect.stringMatching(/^routing\.retries: /),
      ]),
    );
  });

  it('checks provider references and weights after the schema', () => {
    const p = problems({
      providers: { mystery: { api_key: 'x' }, openai: { api_key: 'k' } },
      models: { chat: { strategy: 'weighted', targets: [{ provider: 'openai', model: 'gpt-4o' }, { provider: 'ghost', model: 'x', weight: 1 }] } },
    });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^providers\.mystery\.type: required/),
        "models.chat.targets.1.provider: unknown provider 'ghost' (configured: openai)",
        'models.chat.targets: every target needs a weight under the weighted strategy',
      ]),
    );
  });

  it('parses sizes like 10mb', () => {
    expect(loadConfig({ document: { server: { body_limit: '512kb' } }, env: {} }).server.body_limit).toBe(512 * 1024);
    expect(problems({ server: { body_limit: 'huge' } })[0]).toMatch(/^server\.body_limit: /);
  });
});
