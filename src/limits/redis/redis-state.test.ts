/** The limits state suite against a real Redis (LLMOPS_TEST_REDIS_URL); fails, not skips, without one. */
import { useTestRedis } from '../../../test/helpers/redis.js';
import { runLimitsStateSuite } from '../state.case.js';
import { RedisLimitsState } from './redis-state.js';

const redis = useTestRedis('redis limits state');

if (redis.url) {
  runLimitsStateSuite('redis', {
    make: async () => {
      return new RedisLimitsState(redis.handle(redis.freshPrefix()));
    },
  });
}
