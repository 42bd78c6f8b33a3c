/**
 * The Redis exact-cache backend, shared by every gateway instance: one string per entry
 * (`<prefix>:cache:<key>`, see `encodeEntry`) with a millisecond TTL (`SET … PX`). Uses
 * the process's shared ioredis connection (`state/redis.ts`).
 */
import { RedisBreaker, type RedisHandle } from '../../state/redis.js';
import type { CacheBackend } from '../backend.js';
import { decodeEntry, encodeEntry, type CacheEntry } from '../entry.js';

export class RedisCacheBackend implements CacheBackend {
  readonly kind = 'redis';
  /** Lookups and fills skip Redis for a moment after it could not be reached (misses meanwhile). */
  private readonly breaker = new RedisBreaker('cache');

  constructor(private readonly redis: RedisHandle) {}

  private k(key: string): string {
    return this.redis.key('cache', 'x', key);
  }

  async get(key: string): Promise<CacheEntry | undefined> {
    const text = await this.breaker.run(() => this.redis.client.get(this.k(key)));
    return text === null ? undefined : decodeEntry(text);
  }

  async set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
    await this.breaker.run(() => this.redis.client.set(this.k(key), encodeEntry(entry), 'PX', Math.max(1, Math.round(ttlMs))));
  }

  async delete(key: string): Promise<void> {
    await this.breaker.run(() => this.redis.client.del(this.k(key)));
  }

  async clear(): Promise<void> {
    const pattern = this.redis.key('cache', '*');
    // A cluster client knows its nodes once connected: a command first waits for that.
    if (this.redis.cluster) await this.redis.client.ping();
    // Each primary holds its own keys (all of them on a single Redis). In a cluster the keys of
    // one SCAN page lie in many hash slots, so they are unlinked one by one (pipelined).
    for (const node of this.redis.primaries()) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        if (!this.redis.cluster) await node.unlink(...keys);
        else await keys.reduce((p, k) => p.unlink(k), node.pipeline()).exec();
      } while (cursor !== '0');
    }
  }

  /** The connection is shared; its owner closes it. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
