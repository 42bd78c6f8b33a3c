/** The limits state suite against a real Redis (LLMOPS_TEST_REDIS_URL); fails, not skips, without one. */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisHandle } from '../../state/redis.js';
import { runLimitsStateSuite } from '../state.case.js';
import { RedisLimitsState } from './redis-state.js';

const url = process.env.LLMOPS_TEST_REDIS_URL;
const handles: RedisHandle[] = [];

describe('redis limits state setup', () => {
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

if (url) {
  runLimitsStateSuite('redis', {
    make: async () => {
      const h = openRedis({ url, key_prefix: `llmops-test-${randomBytes(6).toString('hex')}` });
      handles.push(h);
      return new RedisLimitsState(h);
    },
  });
}
