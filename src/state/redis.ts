/**
 * The shared Redis connection for hot state (rate limits, budgets, cache, circuit state)
 * when `redis.url` is configured: one ioredis client per process, every key under the
 * configured prefix so several deployments can share one Redis.
 */
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

export interface RedisConfig {
  url: string;
  key_prefix: string;
}

export interface RedisHandle {
  readonly client: Redis;
  /** Prepends the configured prefix: `key('rl', 'k1')` → `llmops:rl:k1`. */
  key(...parts: string[]): string;
  close(): Promise<void>;
}

export function openRedis(cfg: RedisConfig, log?: Logger): RedisHandle {
  const client = new Redis(cfg.url, {
    // Commands issued while disconnected wait for the reconnect rather than failing at once,
    // but not forever: a request path must get an error it can act on.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    lazyConnect: false,
  });
  let lastLog = 0;
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLog > 5000) {
      lastLog = now;
      log?.error('redis connection error', { err });
    }
  });
  const prefix = cfg.key_prefix;
  return {
    client,
    key: (...parts) => [prefix, ...parts].join(':'),
    async close() {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}
