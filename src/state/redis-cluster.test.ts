/**
 * The limits state and the cache backend against a real three-node Redis Cluster (started by
 * the test with the machine's redis-server): every key a limits script touches shares one
 * hash slot, cache entries spread over the nodes, and clearing walks every primary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway } from '../../test/helpers/gateway.js';
import { startRedisCluster, type TestRedisCluster } from '../../test/helpers/redis-cluster.js';
import { freshPrefix, redisBackendCase } from '../../test/helpers/redis.js';
import { runBackendSuite, sampleEntry } from '../cache/backend.case.js';
import { RedisCacheBackend } from '../cache/redis/redis-backend.js';
import { RedisLimitsState } from '../limits/redis/redis-state.js';
import { runLimitsStateSuite } from '../limits/state.case.js';
import { openRedis, type RedisHandle } from './redis.js';

let cluster: TestRedisCluster;
const handles: RedisHandle[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await cluster?.close();
});

function handle(prefix = freshPrefix()): RedisHandle {
  const h = openRedis({ url: cluster.url, key_prefix: prefix, cluster: true });
  handles.push(h);
  return h;
}

runLimitsStateSuite('redis cluster', { make: async () => new RedisLimitsState(handle()) });

runBackendSuite('redis cluster', redisBackendCase(handle));

describe('redis cluster handle', () => {
  it('finds every primary, puts a script\'s keys in one slot, and spreads cache entries over the nodes', async () => {
    // Bug: on a cluster the limits' scripts failed with CROSSSLOT (their keys were in many slots).
    const h = handle('llmops');
    expect(h.cluster).toBe(true);
    expect(h.slotKey('lim', 'rl:key:k1:r10')).toBe('{llmops}:lim:rl:key:k1:r10');
    expect(h.key('cache', 'x', 'abc')).toBe('llmops:cache:x:abc');
    await h.client.ping();
    const primaries = h.primaries();
    expect(primaries).toHaveLength(3);

    const b = new RedisCacheBackend(h);
    const entry = sampleEntry();
    for (let i = 0; i < 60; i++) await b.set(`k${i}`, entry, 60_000);
    const perNode = await Promise.all(primaries.map(async (n) => (await n.keys('llmops:cache:*')).length));
    expect(perNode.reduce((a, c) => a + c, 0)).toBe(60);
    expect(perNode.filter((c) => c > 0).length).toBeGreaterThan(1);
    // Cleared through a client that has not connected yet: it must learn the nodes first.
    await new RedisCacheBackend(handle('llmops')).clear();
    expect((await Promise.all(primaries.map((n) => n.keys('llmops:cache:*')))).flat()).toEqual([]);
  });
});

describe('gateways on a redis cluster', () => {
  it('two gateways configured with redis.cluster share one rate limit, one budget and one cache', async () => {
    const doc = {
      providers: { demo: {} },
      models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
      redis: { url: cluster.url, cluster: true, key_prefix: freshPrefix() },
      limits: { per_key: { rpm: 4 } },
      budgets: { rules: [{ name: 'all', scope: 'global', limit_usd: 100, window: 'day' }] },
      cache: { backend: 'redis' },
    };
    const [a, b] = [await startTestGateway(doc), await startTestGateway(doc)];
    try {
      const chat = (g: typeof a, content: string): Promise<Response> =>
        fetch(`${g.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content }], max_tokens: 20 }),
        });
      const first = await chat(a, 'hello');
      expect(first.status).toBe(200);
      expect(first.headers.get('x-llmops-cache')).toBe('miss');
      const hit = await chat(b, 'hello'); // answered from the cache the other gateway filled
      expect(hit.headers.get('x-llmops-cache')).toBe('hit');
      expect((await chat(a, 'second question')).status).toBe(200);
      const fourth = await chat(b, 'third question');
      expect(fourth.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      const refused = await chat(a, 'fourth question');
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
