/**
 * Redis for the backend suites: fails (never skips) when LLMOPS_TEST_REDIS_URL is missing,
 * opens handles under fresh key prefixes and deletes their keys after the file's tests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { BackendCase } from '../../src/cache/backend.case.js';
import { RedisCacheBackend } from '../../src/cache/redis/redis-backend.js';
import { openRedis, type RedisHandle } from '../../src/state/redis.js';

/** A key prefix no other test uses. */
export function freshPrefix(): string {
  return `llmops-test-${randomBytes(6).toString('hex')}`;
}

/**
 * The exact-cache backend suite's case for Redis: each backend under a fresh prefix, and a
 * sibling (another instance) over the same prefix. `open` gives a handle under a prefix.
 */
export function redisBackendCase(open: (prefix: string) => RedisHandle): BackendCase {
  const prefixOf = new Map<RedisCacheBackend, string>();
  return {
    make: async () => {
      const prefix = freshPrefix();
      const b = new RedisCacheBackend(open(prefix));
      prefixOf.set(b, prefix);
      return b;
    },
    sibling: async (of) => new RedisCacheBackend(open(prefixOf.get(of as RedisCacheBackend)!)),
  };
}

export interface TestRedis {
  /** The server's URL, or undefined (the setup test then fails). */
  readonly url: string | undefined;
  /** A handle under `prefix`; closed, with its keys deleted, after the file's tests. */
  handle(prefix: string): RedisHandle;
  /** A prefix no other test uses. */
  freshPrefix(): string;
}

export function useTestRedis(suite: string): TestRedis {
  const url = process.env.LLMOPS_TEST_REDIS_URL;
  const handles: RedisHandle[] = [];
  describe(`${suite} setup`, () => {
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
  return {
    url,
    handle(prefix) {
      const h = openRedis({ url: url!, key_prefix: prefix });
      handles.push(h);
      return h;
    },
    freshPrefix,
  };
}
