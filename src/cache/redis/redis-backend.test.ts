/** The cache backend suite against a real Redis (LLMOPS_TEST_REDIS_URL); fails, not skips, without one. */
import { describe, expect, it } from 'vitest';
import type { RedisHandle } from '../../state/redis.js';
import { redisBackendCase, useTestRedis } from '../../../test/helpers/redis.js';
import { runBackendSuite } from '../backend.case.js';
import { LocalEmbedder } from '../semantic/local-embedder.js';
import { SemanticCache } from '../semantic/semantic-cache.js';

const redis = useTestRedis('redis cache');
const handle = (prefix: string): RedisHandle => redis.handle(prefix);

if (redis.url) {
  runBackendSuite('redis', redisBackendCase(handle));

  describe('semantic cache over redis', () => {
    it('a question filed on one instance is a semantic hit on another after a sync', async () => {
      const prefix = redis.freshPrefix();
      const embedder = new LocalEmbedder();
      const make = (h = handle(prefix)) => new SemanticCache({ embedder, threshold: 0.9, maxEntries: 1000, dimensions: embedder.dimensions, redis: { handle: h, syncMs: 60_000 } });
      const oneHandle = handle(prefix);
      const one = make(oneHandle);
      const two = make();
      try {
        one.add('scope', embedder.embed('What is the capital of France?'), 'exact-key-1', Date.now() + 60_000);
        // Publishing is fire-and-forget; a round trip on the same connection orders after it.
        await oneHandle.client.ping();
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
