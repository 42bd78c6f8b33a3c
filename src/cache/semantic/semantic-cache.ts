/**
 * The semantic cache: an embedder and a {@link SemanticIndex} from question vectors to
 * exact-cache keys (the answers themselves stay in the exact backend, with its TTL).
 *
 * With Redis, every instance publishes what it files to one Redis stream
 * (`<prefix>:cache:sem`, capped near `max_entries`) and tails that stream into its own
 * local index every `sync_ms`, so a question answered on one instance is a semantic hit on
 * all of them within that delay. Lookups never wait on Redis.
 */
import type { Logger } from '../../logger.js';
import type { RedisHandle } from '../../state/redis.js';
import type { Embedder } from './embedder.js';
import { SemanticIndex, type SemanticMatch } from './semantic-index.js';

/**
 * Stream entries read per XRANGE: each holds a vector (a 1,536-dimension embedding is 8 KB
 * of base64), so one reply stays a few MB, well inside Redis' command timeout.
 */
const SYNC_BATCH = 1000;

export interface SemanticCacheOptions {
  embedder: Embedder;
  threshold: number;
  maxEntries: number;
  /** Set when the dimension is known up front (local embedder); otherwise taken from the first vector. */
  dimensions?: number;
  redis?: { handle: RedisHandle; syncMs: number } | undefined;
  log?: Logger;
}

export class SemanticCache {
  readonly embedder: Embedder;
  readonly threshold: number;
  private index: SemanticIndex | undefined;
  private readonly redis: SemanticCacheOptions['redis'];
  private readonly streamKey: string | undefined;
  private lastId = '0-0';
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private nextSync: Promise<void> | undefined;

  constructor(private readonly opts: SemanticCacheOptions) {
    this.embedder = opts.embedder;
    this.threshold = opts.threshold;
    if (opts.dimensions) this.index = new SemanticIndex({ dimensions: opts.dimensions, maxEntries: opts.maxEntries });
    this.redis = opts.redis;
    if (this.redis) {
      this.streamKey = this.redis.handle.key('cache', 'sem');
      this.timer = setInterval(() => void this.sync(), this.redis.syncMs);
      this.timer.unref();
      void this.sync();
    }
  }

  get size(): number {
    return this.index?.size ?? 0;
  }

  embed(text: string): Float32Array | Promise<Float32Array> {
    return this.embedder.embed(text);
  }

  search(scope: string, vector: Float32Array): SemanticMatch | undefined {
    return this.index?.search(scope, vector, this.threshold);
  }

  forget(key: string): void {
    this.index?.forget(key);
  }

  /** Files an answered question locally and, with Redis, for every other instance. */
  add(scope: string, vector: Float32Array, key: string, expiresAt: number): void {
    this.local(scope, vector, key, expiresAt);
    if (this.redis && this.streamKey) {
      const v = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
      this.redis.handle.client
        .xadd(this.streamKey, 'MAXLEN', '~', String(this.opts.maxEntries), '*', 's', scope, 'k', key, 'e', String(expiresAt), 'v', v)
        .catch((err: unknown) => this.opts.log?.warn('semantic cache publish failed', { err }));
    }
  }

  private local(scope: string, vector: Float32Array, key: string, expiresAt: number): void {
    this.index ??= new SemanticIndex({ dimensions: vector.length, maxEntries: this.opts.maxEntries });
    if (vector.length !== this.index.dimensions) return;
    this.index.add(scope, vector, key, expiresAt);
  }

  /** Pulls entries other instances published since the last sync. Resolves when caught up. */
  sync(): Promise<void> {
    // A pull already in flight may have read the stream before what the caller wants to see:
    // queue one more after it (one at most, however many callers wait).
    if (this.syncing) {
      const again = (): Promise<void> => {
        this.nextSync = undefined;
        return this.sync();
      };
      this.nextSync ??= this.syncing.then(again, again);
      return this.nextSync;
    }
    this.syncing = this.pull().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async pull(): Promise<void> {
    if (!this.redis || !this.streamKey) return;
    try {
      for (;;) {
        const start = this.lastId === '0-0' ? '-' : `(${this.lastId}`;
        const rows = await this.redis.handle.client.xrange(this.streamKey, start, '+', 'COUNT', SYNC_BATCH);
        if (rows.length === 0) return;
        const now = Date.now();
        for (const [id, fields] of rows) {
          this.lastId = id;
          const f: Record<string, string> = {};
          for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
          const expiresAt = Number(f.e);
          if (!f.s || !f.k || !f.v || !(expiresAt > now)) continue;
          const buf = Buffer.from(f.v, 'base64');
          const vector = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
          this.local(f.s, vector, f.k, expiresAt);
        }
        if (rows.length < SYNC_BATCH) return;
      }
    } catch (err) {
      this.opts.log?.warn('semantic cache sync failed', { err });
    }
  }

  /** Drops every entry (locally, and the shared stream). */
  async clear(): Promise<void> {
    this.index?.clear();
    if (this.redis && this.streamKey) await this.redis.handle.client.del(this.streamKey);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
