/**
 * The response cache on Redis through two real gateways (two instances of one deployment):
 * an answer stored by one is a hit on the other, exact and semantic. Needs
 * LLMOPS_TEST_REDIS_URL; fails, not skips, without it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';

const url = process.env.LLMOPS_TEST_REDIS_URL;
const KEY = 'sk-tenant-a-0123456789abcdef';

describe('redis cache setup', () => {
  it('has LLMOPS_TEST_REDIS_URL', () => {
    expect(url, 'set LLMOPS_TEST_REDIS_URL=redis://127.0.0.1:6379 to run the Redis suite').toBeTruthy();
  });
});

if (url) {
  let upstream: MockUpstream;
  let one: TestGateway;
  let two: TestGateway;

  beforeAll(async () => {
    upstream = await startMockUpstream(openAIDialect, { text: 'Paris.', usage: { input: 10, output: 2 } });
    const prefix = `llmops-test-${randomBytes(6).toString('hex')}`;
    const doc = {
      redis: { url, key_prefix: prefix },
      providers: { up: { type: 'openai', api_key: 'k', base_url: `${upstream.url}/v1` } },
      models: { chat: { targets: [{ provider: 'up', model: 'gpt-4o-mini' }] } },
      keys: [{ name: 'a', key: KEY }],
      cache: { semantic: { sync_ms: 50 } },
    };
    one = await startTestGateway(doc);
    two = await startTestGateway(doc);
  });
  afterAll(async () => {
    await one?.gw.cache?.backend.clear();
    await one?.gw.cache?.semantic?.clear();
    await Promise.all([one?.close(), two?.close(), upstream?.close()]);
  });

  const ask = (g: TestGateway, content: string, extra: Record<string, unknown> = {}) =>
    fetch(`${g.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content }], ...extra }),
    });

  describe('cache on redis', () => {
    it('uses the redis backend when redis is configured', () => {
      expect(one.gw.cache?.backend.kind).toBe('redis');
    });

    it('an answer stored by one instance is an exact hit on the other, streamed too', async () => {
      expect((await ask(one, 'Capital of France?')).headers.get('x-llmops-cache')).toBe('miss');
      const hit = await ask(two, 'Capital of France?');
      expect(hit.headers.get('x-llmops-cache')).toBe('hit');
      expect(((await hit.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('Paris.');
      const streamed = await ask(two, 'Capital of France?', { stream: true });
      expect(streamed.headers.get('x-llmops-cache')).toBe('hit');
      expect(await streamed.text()).toContain('data: [DONE]');
      expect(upstream.requests).toHaveLength(1);
    });

    it('a near-duplicate asked on the other instance is a semantic hit once synced', async () => {
      await ask(one, 'What is the tallest mountain on Earth?');
      await new Promise((r) => setTimeout(r, 300));
      const near = await ask(two, 'what is the tallest mountain on earth');
      expect(near.headers.get('x-llmops-cache')).toBe('hit');
      expect(upstream.requests).toHaveLength(2);
    });

    it('DELETE /admin/cache on one instance drops the answers for both, exact and semantic', async () => {
      expect((await ask(two, 'Capital of France?')).headers.get('x-llmops-cache')).toBe('hit');
      const res = await fetch(`${one.url}/admin/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${one.adminKey}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ object: 'cache.cleared', backend: 'redis' });
      expect((await ask(two, 'Capital of France?')).headers.get('x-llmops-cache')).toBe('miss');
      expect((await ask(two, 'what is the tallest mountain on earth')).headers.get('x-llmops-cache')).toBe('miss');
      expect(upstream.requests).toHaveLength(4);
    });
  });
}
