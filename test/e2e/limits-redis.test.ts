/**
 * Rate limits and budgets with the Redis backend inside a real gateway (LLMOPS_TEST_REDIS_URL;
 * fails without it), and what happens when Redis is unreachable: `on_state_error: deny`
 * answers 503 `limits_unavailable`, `allow` lets requests through.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const REDIS_URL = process.env.LLMOPS_TEST_REDIS_URL;
const opened: TestGateway[] = [];
afterAll(async () => {
  for (const g of opened) {
    if (g.gw.redis && REDIS_URL) {
      const keys = await g.gw.redis.client.keys(g.gw.redis.key('*')).catch(() => [] as string[]);
      if (keys.length) await g.gw.redis.client.del(...keys);
    }
    await g.close();
  }
});

const base = { providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } } };

async function gateway(doc: Record<string, unknown>): Promise<TestGateway> {
  const g = await startTestGateway({ ...base, ...doc });
  opened.push(g);
  return g;
}

function chat(g: TestGateway): Promise<Response> {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 }),
  });
}

describe('limits with Redis', () => {
  it('has LLMOPS_TEST_REDIS_URL', () => {
    expect(REDIS_URL, 'set LLMOPS_TEST_REDIS_URL=redis://127.0.0.1:6379').toBeTruthy();
  });

  it('two gateways on one Redis share one rate limit', async () => {
    const doc = { redis: { url: REDIS_URL, key_prefix: `llmops-e2e-${randomBytes(6).toString('hex')}` }, limits: { per_key: { rpm: 3 } } };
    const [a, b] = [await gateway(doc), await gateway(doc)];
    expect((await chat(a)).status).toBe(200);
    expect((await chat(b)).status).toBe(200);
    const third = await chat(a);
    expect(third.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const refused = await chat(b);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
  });

  it('Redis unreachable: deny answers 503 limits_unavailable; allow lets the request through', async () => {
    const down = { url: 'redis://127.0.0.1:1', key_prefix: 'nowhere' };
    const deny = await gateway({ redis: down, limits: { per_key: { rpm: 3 } } });
    const res = await chat(deny);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('limits_unavailable');
    expect(deny.logs.some((l) => l.includes('state backend failed'))).toBe(true);
    const allow = await gateway({ redis: down, limits: { per_key: { rpm: 3 }, on_state_error: 'allow' } });
    expect((await chat(allow)).status).toBe(200);
  });
});
