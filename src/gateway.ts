/**
 * Assembles a gateway from a config: store, trace sink, keys, providers, router, pipeline
 * and HTTP server; and shuts it down in order (stop accepting, let in-flight requests
 * finish within the grace period, drain the trace queue, close the store).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/load.js';
import type { ReloadStats } from './config/reload-plan.js';
import { ConfigReloader, withExtras, type ReloadResult } from './config/reloader.js';
import { reviewApi } from './api/review-api.js';
import { builtinDetectors } from './guards/detectors.js';
import { GuardrailEngine } from './guards/policy/engine.js';
import { ReviewQueue } from './guards/review/review-queue.js';
import { IdGenerator } from './ids.js';
import { KeyService } from './keys/key-service.js';
import { createLogger, type Logger } from './logger.js';
import { buildPipeline } from './pipeline/index.js';
import { loadBuiltinPrices, PriceTable } from './pricing/price-table.js';
import { createProvider } from './providers/registry.js';
import type { Provider } from './providers/types.js';
import { CircuitBreaker } from './routing/circuit-breaker.js';
import type { ExecutorDeps } from './routing/executor.js';
import { LatencyTracker } from './routing/latency-tracker.js';
import { ModelRouter } from './routing/router.js';
import { createObservability, type Observability } from './otel/observability.js';
import { buildServer, type ServerDeps } from './server.js';
import { configApi } from './api/config-api.js';
import { auditApi } from './api/audit-api.js';
import { AuditLog, type AuditActor } from './audit/audit-log.js';
import { cacheApi } from './cache/cache-api.js';
import { createResponseCache } from './cache/index.js';
import type { ResponseCache } from './cache/response-cache.js';
import { openRedis, type RedisHandle } from './state/redis.js';
import { createLimits, type LimitsService } from './limits/index.js';
import { limitsApi } from './limits/limits-api.js';
import { openStore } from './store/index.js';
import { classifyStoreError, StoreStartError } from './store/store-errors.js';
import type { Store } from './store/types.js';
import { CaptureSettings } from './traces/capture.js';
import { startRetention } from './traces/retention.js';
import { TraceSink } from './traces/trace-sink.js';
import { TraceWriterThread, writerThreadAvailable } from './traces/trace-writer-thread.js';

export interface GatewayOptions {
  config: Config;
  /** The admin key; defaults to LLMOPS_ADMIN_KEY. */
  adminKey?: string | undefined;
  log?: Logger;
  /** Use this store instead of opening `store.url` (tests). */
  store?: Store;
  /** Extra providers by name, beside the configured ones (tests). */
  providers?: Map<string, Provider>;
  random?: () => number;
  /**
   * Reads the config anew for {@link Gateway.reload} (SIGHUP, `POST /admin/reload`); the
   * CLI passes the file it started from. Without it, a reload must be given the config.
   */
  loadConfig?: () => Config;
}

export type { ReloadResult } from './config/reloader.js';

export interface Gateway {
  readonly app: FastifyInstance;
  /** The running config: the one it started with, with the sections reloads took over. */
  readonly config: Config;
  readonly store: Store;
  readonly sink: TraceSink;
  readonly keys: KeyService;
  readonly router: ModelRouter;
  readonly breaker: CircuitBreaker;
  readonly log: Logger;
  /** OTLP ingest/export and Prometheus metrics, per config. */
  readonly observability: Observability;
  /** The shared Redis connection, when `redis:` is configured. */
  readonly redis: RedisHandle | undefined;
  /** The response cache, when `cache:` is configured. */
  readonly cache: ResponseCache | undefined;
  /** Rate limits and budgets, when `limits:` or `budgets:` is configured. */
  readonly limits: LimitsService | undefined;
  /**
   * Migrates the store (once; `listen` does it too). Rejects with a {@link StoreStartError}
   * when the store is unreachable or its migration fails: a gateway must not start without
   * its store. Once started, outages are survived (the trace writer retries).
   */
  ready(): Promise<void>;
  /**
   * Reloads the config (`next`, else the `loadConfig` option's answer): routes, providers,
   * keys from config, prices, capture, guardrails, limits and budgets take effect from the
   * next request on; calls in flight finish as they started. Everything is built before
   * anything changes, so an invalid config rejects (as `config_invalid`) and the running one
   * stays. Sections that need a restart are named in the result and keep running as they were.
   * Reloads run one at a time, and each (applied or refused) goes to the audit log as done
   * `by` (default: `internal`).
   */
  reload(next?: Config, by?: AuditActor): Promise<ReloadResult>;
  /** Starts listening (after {@link ready}); resolves with the base URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Graceful shutdown: in-flight requests finish (up to the grace period), traces drain, the store closes. */
  close(): Promise<void>;
}

export function createGateway(opts: GatewayOptions): Gateway {
  const { config } = opts;
  const log = opts.log ?? createLogger(config.server.log_level);
  const store = opts.store ?? openStoreAtStart(config.store.url, log);
  // Trace inserts run on a writer thread for a file or server store; in-memory SQLite has
  // one connection only, so it writes in-thread (tests).
  const threaded = !opts.store && !config.store.url.includes(':memory:') && writerThreadAvailable();
  const writer = threaded ? new TraceWriterThread(config.store.url, { log }) : undefined;
  const sink = new TraceSink(writer ?? store, {
    maxQueue: config.store.trace_queue_max,
    maxQueueBytes: config.store.trace_queue_max_bytes,
    batchSize: config.store.trace_batch_size,
    flushMs: config.store.trace_flush_ms,
    log,
  });
  const keys = new KeyService(store, { adminKey: opts.adminKey ?? process.env.LLMOPS_ADMIN_KEY, staticKeys: config.keys, log });
  const extraProviders = opts.providers ?? new Map<string, Provider>();
  const providers = withExtras(new Map(Object.entries(config.providers).map(([name, pc]) => [name, createProvider(name, pc)])), extraProviders);
  const router = new ModelRouter(config, providers);
  const breaker = new CircuitBreaker(config.routing.circuit_breaker);
  const latency = new LatencyTracker(config.routing.latency_ewma_alpha);
  const executor: ExecutorDeps = {
    routing: config.routing,
    breaker,
    latency,
    ...(opts.random ? { random: opts.random } : {}),
  };
  const prices = new PriceTable(loadBuiltinPrices(), config.pricing);
  const capture = new CaptureSettings(config.traces.capture);
  const redis = config.redis ? openRedis(config.redis, log) : undefined;
  const cache = createResponseCache(config.cache, { redis, prices, log, router, executor });
  const limits = createLimits(config, { redis, prices, router, log });
  const detectors = builtinDetectors();
  const reloadStats: ReloadStats = { succeeded: 0, failed: 0, lastSuccessful: true, lastSuccessAt: Date.now() };
  const observability = createObservability({ config, sink, keys, prices, capture, providerNames: providers.keys(), reloadStats, log });
  const ids = new IdGenerator();
  const audit = new AuditLog(store, log, () => ids.traceId());
  const reloader: ConfigReloader = new ConfigReloader(config, providers, {
    keys,
    router,
    executor,
    breaker,
    latency,
    prices,
    capture,
    limits,
    store,
    detectors,
    extraProviders,
    guardrails: config.guardrails ? new GuardrailEngine(config.guardrails, detectors) : undefined,
    review: config.guardrails ? new ReviewQueue(store, config.guardrails.review, log, opts.random) : undefined,
    stats: reloadStats,
    audit,
    log,
    random: opts.random,
    loadConfig: opts.loadConfig,
    applied(running, providerNames) {
      serverDeps.pipeline = pipelineFor(running.environment);
      observability.reconfigured(running, providerNames);
    },
  });
  // Guardrails and the review queue are the reloader's: a reload may switch them on or off.
  const pipelineFor = (environment: string) =>
    buildPipeline({ keys, router, executor, sink, prices, log, capture, environment, cache, limits, guardrails: reloader.guardrails, review: reloader.review });

  const serverDeps: ServerDeps = {
    bodyLimit: config.server.body_limit,
    maxInflightBodyBytes: config.server.max_inflight_body_bytes ?? Math.floor(getHeapStatistics().heap_size_limit / 8),
    requestTimeoutMs: config.server.request_timeout_ms,
    pipeline: pipelineFor(config.environment),
    keys,
    router,
    store,
    sink,
    log,
    ids,
    audit,
    ...(redis ? { redisStatus: () => redis.status() } : {}),
    plugins: [...observability.plugins, limitsApi({ limits, keys, audit }), reviewApi({ store, keys }), configApi({
        keys,
        reload: (by) => reloader.reload(undefined, by),
        running: () => ({ config: reloader.running, loadedAt: reloadStats.lastSuccessAt, restartRequired: reloader.pendingRestart }),
      }), cacheApi({ cache, keys, audit }), auditApi({ store, keys })],
  };
  const app = buildServer(serverDeps);

  const retention = startRetention(store, config.traces.retention_days, log);

  let starting: Promise<void> | undefined;
  const ready = (): Promise<void> => {
    starting ??= migrateAtStart(store, ids).catch((err: unknown) => {
      starting = undefined; // a later call tries again
      throw err;
    });
    return starting;
  };

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    retention.stop();
    const grace = setTimeout(() => app.server.closeAllConnections(), config.server.shutdown_grace_ms);
    grace.unref();
    try {
      await app.close();
    } finally {
      clearTimeout(grace);
    }
    await reloader.close(); // a reload in progress, the review queue, the providers
    const lost = await sink.drain();
    if (lost > 0) log.error('shutdown lost traces', { lost });
    await writer?.close();
    await cache?.close();
    await limits?.close();
    await redis?.close();
    await observability.close();
    await keys.flushTouches();
    await store.close();
  };

  return {
    app,
    get config() {
      return reloader.running;
    },
    store,
    sink,
    keys,
    router,
    breaker,
    log,
    observability,
    redis,
    cache,
    limits,
    ready,
    reload: (next, by) => reloader.reload(next, by),
    async listen(port = config.server.port, host = config.server.host) {
      await ready();
      await app.listen({ port, host });
      const addr = app.server.address();
      const actualPort = typeof addr === 'object' && addr ? addr.port : port;
      return `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}

/** Opens the store, a failure to open it (a SQLite file that cannot be created or read) as a {@link StoreStartError}. */
function openStoreAtStart(url: string, log: Logger): Store {
  try {
    return openStore(url, { log });
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('store.url')) throw err; // a config mistake, said as such
    // SQLite migrates as it opens: a plain SQL error is a failed migration, anything else
    // (no such folder, no permission, not a database file) a store that cannot be reached.
    const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
    throw new StoreStartError(code === 'SQLITE_ERROR' ? 'migration_failed' : 'unreachable', url.startsWith('sqlite:') ? 'sqlite' : 'postgres', err);
  }
}

/**
 * Migrates the store explicitly at start (unreachable and failed migrations are told apart)
 * and takes this instance's number for its call ids.
 */
async function migrateAtStart(store: Store, ids: IdGenerator): Promise<void> {
  try {
    await store.ping();
  } catch (err) {
    throw new StoreStartError('unreachable', store.kind, err);
  }
  try {
    await store.migrate();
  } catch (err) {
    throw new StoreStartError(classifyStoreError(err) === 'transient' ? 'unreachable' : 'migration_failed', store.kind, err);
  }
  try {
    ids.setInstance(await store.claimInstanceNumber());
  } catch (err) {
    throw new StoreStartError('unreachable', store.kind, err);
  }
}

/** The folder for local state (`./.llmops` by default, or the SQLite file's folder). */
export function dataDir(config: Config): string {
  const url = config.store.url;
  if (url.startsWith('sqlite:') && !url.includes(':memory:')) return dirname(url.replace(/^sqlite:(\/\/)?/, ''));
  return '.llmops';
}

/**
 * The admin key: LLMOPS_ADMIN_KEY, else the one kept in `<dataDir>/admin-key`, created on
 * first start (mode 0600) so the quickstart works with no setup.
 */
export function resolveAdminKey(config: Config, env: NodeJS.ProcessEnv = process.env): { key: string; source: 'env' | 'file' | 'generated'; file: string } {
  const file = join(dataDir(config), 'admin-key');
  if (env.LLMOPS_ADMIN_KEY) return { key: env.LLMOPS_ADMIN_KEY, source: 'env', file };
  if (existsSync(file)) return { key: readFileSync(file, 'utf8').trim(), source: 'file', file };
  mkdirSync(dirname(file), { recursive: true });
  const key = `sk-llmops-admin-${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: 'generated', file };
}
