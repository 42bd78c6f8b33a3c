/** The cache backend suite against a real Redis (LLMOPS_TEST_REDIS_URL); fails, not skips, without one. */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisHandle } from '../../state/redis.js';
import { runBackendSuite } from '../backend.case.js';
import { LocalEmbedder } from '../semantic/local-embedder.js';
import { SemanticCache } from '../semantic/semantic-cache.js';
import { RedisCacheBackend } from './redis-backend.js';

const url = process.env.LLMOPS_TEST_REDIS_URL;
const handles: RedisHandle[] = [];
const prefixOf = new Map<RedisCacheBackend, string>();

describe('redis cache setup', () => {
  it('has LLMOPS_TEST_REDIS_URL', () => {
    expect(url, 'set LLMOPS_TEST_REDIS_URL=redis://127.0.0.1:6379 to run the Redis suite').toBeTruthy();
  });
});

afterAll(async () => {
  for (const h of handles) {
    const keys = await h.client.keys(h.key('*'));
    if (keys.length) await h.client.del(...keys);
    await h.close();
  }
});

function handle(prefix: string): RedisHandle {
  const h = openRedis({ url: url!, key_prefix: prefix });
  handles.push(h);
  return h;
}

if (url) {
  runBackendSuite('redis', {
    make: async () => {
      const prefix = `llmops-test-${randomBytes(6).toString('hex')}`;
      const b = new RedisCacheBackend(handle(prefix));
      prefixOf.set(b, prefix);
      return b;
    },
    sibling: async (of) => new RedisCacheBackend(handle(prefixOf.get(of as RedisCacheBackend)!)),
  });

  describe('semantic cache over redis', () => {
    it('a question filed on one instance is a semantic hit on another after a sync', async () => {
      const prefix = `llmops-test-${randomBytes(6).toString('hex')}`;
      const embedder = new LocalEmbedder();
      const make = () => new SemanticCache({ embedder, threshold: 0.9, maxEntries: 1000, dimensions: embedder.dimensions, redis: { handle: handle(prefix), syncMs: 60_000 } });
      const one = make();
      const two = make();
      try {
        one.add('scope', embedder.embed('What is the capital of France?'), 'exact-key-1', Date.now() + 60_000);
        // Publishing is fire-and-forget; a round trip on the same connection orders after it.
        await handles[handles.length - 2]!.client.ping();
        await two.sync();
        expect(two.search('scope', embedder.embed('what is the capital of france'))?.key).toBe('exact-key-1');
        expect(two.search('other-scope', embedder.embed('what is the capital of france'))).toBeUndefined();
        // A third instance started later loads what was filed before it.
        const three = make();
        await three.sync();
        expect(three.size).toBe(1);
        three.close();
      } finally {
        one.close();
        two.close();
      }
    });
  });
}
