/**
 * Redis for the backend suites: fails (never skips) when LLMOPS_TEST_REDIS_URL is missing,
 * opens handles under fresh key prefixes and deletes their keys after the file's tests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisHandle } from '../../src/state/redis.js';

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
    freshPrefix: () => `llmops-test-${randomBytes(6).toString('hex')}`,
  };
}
