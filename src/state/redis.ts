/**
 * The shared Redis connection for hot state (rate limits, budgets, cache, circuit state)
 * when `redis.url` is configured: one ioredis client per process, every key under the
 * configured prefix so several deployments can share one Redis. With `redis.cluster`, the
 * URL is a seed node of a Redis Cluster: the client finds the other nodes, and the keys one
 * Lua script touches together share a hash slot (`{prefix}:...`).
 */
import type { Cluster, Redis } from 'ioredis';
import { lazyRequire } from '../lazy-require.js';
import type { Logger } from '../logger.js';

export interface RedisConfig {
  url: string;
  key_prefix: string;
  /** The URL is a seed node of a Redis Cluster. */
  cluster?: boolean;
}

export interface RedisHandle {
  readonly client: Redis | Cluster;
  readonly cluster: boolean;
  /** Prepends the configured prefix: `key('rl', 'k1')` → `llmops:rl:k1`. */
  key(...parts: string[]): string;
  /**
   * A key that one script uses together with others: in a cluster all of them share one
   * hash slot (`{llmops}:lim:k1`); on a single Redis, the same as {@link key}.
   */
  slotKey(...parts: string[]): string;
  /** The clients to walk every key with (SCAN): each primary of a cluster, or the one client. */
  primaries(): Redis[];
  /** Whether the connection is up (for `/ready`): `unreachable` while it is being re-established or given up on. */
  status(): 'ok' | 'unreachable';
  close(): Promise<void>;
}

/**
 * The longest one command waits for its reply (ioredis `commandTimeout`). Without it a Redis
 * that stops answering but keeps the connection open (a host gone dark, a network partition)
 * held each command until TCP gave up, minutes later.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;

// Commands issued while disconnected wait for the reconnect rather than failing at once,
// but not forever: a request path must get an error it can act on.
const COMMAND_OPTIONS = { maxRetriesPerRequest: 2, enableOfflineQueue: true } as const;
const CONNECTION_OPTIONS = { commandTimeout: REDIS_COMMAND_TIMEOUT_MS, connectTimeout: REDIS_COMMAND_TIMEOUT_MS } as const;

/**
 * A cluster's own retries, kept inside about the outage grace period. ioredis' defaults
 * retried a command whose node was gone 16 times 100 ms apart (1.1-1.7 s per command), and
 * once the cluster marked itself down (CLUSTERDOWN, every slot) every command in every slot
 * took that long for as long as the outage lasted. A CLUSTERDOWN reply now fails at once (a
 * failover takes the cluster's node timeout, far longer than a retry could wait) and a gone
 * node's command gives up after 6 redirections (0.3-0.45 s measured; MOVED redirections are
 * instant and count against the same budget: a resharding needs one or two).
 */
const CLUSTER_RETRY_OPTIONS = { maxRedirections: 6, retryDelayOnFailover: 100, retryDelayOnClusterDown: 0, retryDelayOnTryAgain: 100 } as const;

/**
 * How long a lost connection is waited out (a failover, a restart) before commands fail at
 * once instead. Waiting, each command sat out the reconnect attempts: with Redis down every
 * request took 3-5 s longer, even with `limits.on_state_error: allow` and the cache's
 * miss-on-error. Commands queue again as soon as the connection is back.
 */
export const REDIS_OUTAGE_FAIL_FAST_MS = 1000;

/**
 * How often each connection is checked with a PING. One that gets no answer within the command
 * timeout is dropped and reconnected: a Redis gone silent with the connection open (a host
 * gone dark, a partition) then counts as lost, so after the grace period its commands fail at
 * once, where each would otherwise wait out the command timeout for as long as it lasted.
 */
export const REDIS_WATCHDOG_INTERVAL_MS = 1000;

/** How long a {@link RedisBreaker} skips Redis after a call could not reach it. */
export const REDIS_BREAKER_OPEN_MS = 1000;

/**
 * Skips Redis for {@link REDIS_BREAKER_OPEN_MS} after a call could not reach it, then lets
 * one call through to see whether it is back (the others keep failing at once meanwhile).
 * The connection's own fail-fast covers a Redis that is gone; this covers what it cannot see:
 * one primary of a cluster gone silent or gone while the cluster still answers for the rest
 * (each command for its slots waited 2 s or 0.45 s, on every request). Each user of the
 * connection has its own (limits, cache), so failures of one (a cache entry on the silent
 * node) do not stop another (the limits' slot on a healthy one). Redis' answers to the
 * command itself (a script's error) do not count as unreachable.
 */
export class RedisBreaker {
  private openUntil = 0;
  private probing = false;

  constructor(
    private readonly what: string,
    private readonly openMs = REDIS_BREAKER_OPEN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.openUntil !== 0) {
      if (this.probing || this.now() < this.openUntil) {
        return Promise.reject(new Error(`${this.what}: Redis skipped for ${this.openMs} ms after a call could not reach it`));
      }
      this.probing = true;
    }
    return call().then(
      (v) => {
        this.probing = false;
        this.openUntil = 0;
        return v;
      },
      (err: unknown) => {
        this.probing = false;
        if (unreachable(err)) this.openUntil = this.now() + this.openMs;
        else if (this.openUntil !== 0) this.openUntil = 0; // it answered
        throw err;
      },
    );
  }
}

/** Redis' replies that mean the cluster cannot serve the slot now, not that the command was wrong. */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|BUSY) /;

function unreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return true;
  return err.name !== 'ReplyError' || UNAVAILABLE_REPLY.test(err.message);
}

/** ioredis, loaded when Redis is configured. */
const ioredis = lazyRequire<typeof import('ioredis')>('ioredis');

export function openRedis(cfg: RedisConfig, log?: Logger): RedisHandle {
  const cluster = cfg.cluster === true;
  const client = cluster ? openCluster(cfg.url) : new (ioredis().Redis)(cfg.url, { ...COMMAND_OPTIONS, ...CONNECTION_OPTIONS, lazyConnect: false });
  let failFast: NodeJS.Timeout | undefined;
  let closing = false;
  client.on('close', () => {
    if (closing) return;
    failFast ??= setTimeout(() => {
      client.options.enableOfflineQueue = false;
      // A cluster keeps the commands it queued while connecting in a queue of its own that
      // nothing times out (a single Redis fails them after maxRetriesPerRequest): they would
      // wait for the cluster's return, however long. They fail now, as new ones will.
      if (client instanceof ioredis().Cluster) flushClusterQueue(client, new Error('Redis Cluster unreachable: no node answered within the outage grace period'));
      log?.warn('redis unreachable: its commands fail at once until it is back', { after_ms: REDIS_OUTAGE_FAIL_FAST_MS });
    }, REDIS_OUTAGE_FAIL_FAST_MS).unref();
  });
  client.on('ready', () => {
    clearTimeout(failFast);
    failFast = undefined;
    if (!client.options.enableOfflineQueue) log?.info('redis reachable again');
    client.options.enableOfflineQueue = true;
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
  const primaries = (): Redis[] => (client instanceof ioredis().Cluster ? client.nodes('master') : [client]);
  const pinging = new Set<Redis>();
  const watchdog = setInterval(() => {
    for (const node of primaries()) {
      if (node.status !== 'ready' || pinging.has(node)) continue;
      pinging.add(node);
      node.ping().then(
        () => pinging.delete(node),
        (err: Error) => {
          pinging.delete(node);
          if (closing || err.message !== 'Command timed out') return;
          log?.warn('redis not answering: dropping the connection', { node: `${node.options.host}:${node.options.port}`, after_ms: REDIS_COMMAND_TIMEOUT_MS });
          node.disconnect(!cluster);
        },
      );
    }
  }, REDIS_WATCHDOG_INTERVAL_MS).unref();
  return {
    client,
    cluster,
    key: (...parts) => [prefix, ...parts].join(':'),
    slotKey: (...parts) => [cluster ? `{${prefix}}` : prefix, ...parts].join(':'),
    primaries,
    status: () => (client.status === 'ready' ? 'ok' : 'unreachable'),
    async close() {
      closing = true;
      clearInterval(watchdog);
      clearTimeout(failFast);
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    },
  };
}

/** A cluster client seeded from one node's URL (its credentials and TLS apply to every node). */
function openCluster(url: string): Cluster {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && db !== '0') throw new Error(`redis.url: a Redis Cluster has database 0 only, not ${db}`);
  return new (ioredis().Cluster)([{ host: u.hostname, port: Number(u.port || 6379) }], {
    ...COMMAND_OPTIONS,
    ...CLUSTER_RETRY_OPTIONS,
    redisOptions: {
      ...CONNECTION_OPTIONS,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/**
 * Rejects the commands a cluster client queued while it had no connection. ioredis does
 * this itself only when it gives up reconnecting for good; its method for it is not in its
 * typings, hence the check (redis-cluster-outage.test.ts fails if it goes away).
 */
function flushClusterQueue(client: Cluster, err: Error): void {
  const flush = (client as unknown as { flushQueue?: (e: Error) => void }).flushQueue;
  if (typeof flush === 'function') flush.call(client, err);
}
