/**
 * The `llmops.yaml` schema: the single source of truth for configuration. Objects are
 * strict, so a misspelt key is an error that names it rather than a silently ignored line.
 */
import { z } from 'zod';
import { GuardrailsSchema } from '../guards/policy/schema.js';
import { BudgetsSchema, KeyLimitsSchema, LimitsSchema } from '../limits/schema.js';

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** Bytes, as a number or a string such as `10mb`. */
const ByteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*(b|k|kb|m|mb|g|gb)?\s*$/i, 'expected a size such as 1048576, "512kb" or "10mb"')
    .transform((s) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s)!;
      return Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] || 'b').toLowerCase()] ?? 1));
    }),
]);

const Ms = z.number().int().positive();

export const TargetSchema = z.strictObject({
  provider: z.string().min(1),
  model: z.string().min(1),
  /** Relative share of traffic under the `weighted` strategy. */
  weight: z.number().positive().optional(),
  /** Total time one attempt may take, streaming included. */
  timeout_ms: Ms.optional(),
  /** Longest wait for the upstream's response headers. */
  ttfb_timeout_ms: Ms.optional(),
  /** Longest silence in a streamed answer once its headers came (0: none; `timeout_ms` still bounds it). */
  stream_idle_timeout_ms: z.number().int().min(0).optional(),
  /** Caps the caller's max_tokens for this target (see the route's `max_output_tokens`). */
  max_output_tokens: z.number().int().positive().optional(),
  /** Capability overrides for the `cost` strategy; default from `data/model-capabilities.json`. */
  context_window: z.number().int().positive().optional(),
  tools: z.boolean().optional(),
  vision: z.boolean().optional(),
});
export type TargetConfig = z.infer<typeof TargetSchema>;

export const StrategySchema = z.enum(['fallback', 'weighted', 'latency', 'cost', 'complexity']);
export type Strategy = z.infer<typeof StrategySchema>;

/** One tier of the `complexity` strategy: requests scoring at most `max_score` go to its targets, in order. */
export const ComplexityTierSchema = z.strictObject({
  name: z.string().min(1),
  /** Upper bound of the tier's score range (0..1); omitted on the last tier, which takes the rest. */
  max_score: z.number().min(0).max(1).optional(),
  targets: z.array(TargetSchema).min(1),
});
export type ComplexityTierConfig = z.infer<typeof ComplexityTierSchema>;

/** Opt-in context trimming: long conversations are cut to a token budget before routing. */
export const TrimSchema = z.strictObject({
  max_input_tokens: z.number().int().positive(),
  /** The latest messages always kept, even over the budget. */
  keep_recent: z.number().int().min(1).default(1),
});
export type TrimConfig = z.infer<typeof TrimSchema>;

export const ModelRouteSchema = z
  .strictObject({
    strategy: StrategySchema.default('fallback'),
    /** Required, except under `complexity`, whose targets are in `tiers`. */
    targets: z.array(TargetSchema).default([]),
    /** `complexity` strategy: tiers from the smallest model to the largest. */
    tiers: z.array(ComplexityTierSchema).min(1).optional(),
    /** Retries per target before moving to the next; overrides `routing.retries`. */
    retries: z.number().int().min(0).max(10).optional(),
    /** Larger-context targets tried when every target rejects the request as too long. */
    context_fallback: z.array(TargetSchema).optional(),
    /** Upper bound for max_tokens: applied when the caller asks for more, or sets none. */
    max_output_tokens: z.number().int().positive().optional(),
    trim: TrimSchema.optional(),
    /** `cost` strategy: output tokens assumed when the caller sets no max_tokens. */
    expected_output_tokens: z.number().int().positive().optional(),
    description: z.string().optional(),
  })
  .superRefine((r, ctx) => {
    if (r.strategy === 'complexity') {
      if (!r.tiers) ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'required under the complexity strategy' });
      else if (r.targets.length > 0) ctx.addIssue({ code: 'custom', path: ['targets'], message: 'under the complexity strategy, targets go in tiers' });
      else {
        let prev = -1;
        r.tiers.forEach((t, i) => {
          const last = i === r.tiers!.length - 1;
          if (!last && t.max_score === undefined) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'max_score'], message: 'required on every tier but the last' });
          if (t.max_score !== undefined && t.max_score <= prev) ctx.addIssue({ code: 'custom', path: ['tiers', i, 'max_score'], message: 'must increase from tier to tier' });
          prev = t.max_score ?? prev;
        });
      }
    } else {
      if (r.targets.length === 0) ctx.addIssue({ code: 'too_small', origin: 'array', minimum: 1, inclusive: true, path: ['targets'], message: 'Too small: expected array to have >=1 items' });
      if (r.tiers) ctx.addIssue({ code: 'custom', path: ['tiers'], message: 'only used by the complexity strategy' });
    }
  });
export type ModelRouteConfig = z.infer<typeof ModelRouteSchema>;

export const CircuitBreakerSchema = z.strictObject({
  /** Consecutive failures that open the circuit. */
  failure_threshold: z.number().int().positive().default(5),
  /** Failure ratio over the window that opens the circuit, once `min_requests` were seen. */
  error_rate_threshold: z.number().gt(0).max(1).default(0.5),
  min_requests: z.number().int().positive().default(20),
  window_ms: Ms.default(60_000),
  /** How long an open circuit stays open before one half-open probe is let through. */
  cooldown_ms: Ms.default(30_000),
});

export const RoutingSchema = z.strictObject({
  retries: z.number().int().min(0).max(10).default(2),
  backoff_base_ms: z.number().int().min(0).default(200),
  backoff_max_ms: z.number().int().min(0).default(10_000),
  /** A `Retry-After` longer than this is not waited for: the next target is tried instead. */
  max_retry_after_ms: z.number().int().min(0).default(30_000),
  timeout_ms: Ms.default(600_000),
  ttfb_timeout_ms: Ms.default(120_000),
  /**
   * Longest silence in a streamed answer once its headers came; 0 (the default): none, as in
   * the providers' SDKs (a reasoning model may think for minutes between two events).
   */
  stream_idle_timeout_ms: z.number().int().min(0).default(0),
  latency_ewma_alpha: z.number().gt(0).max(1).default(0.3),
  circuit_breaker: CircuitBreakerSchema.prefault({}),
});
export type RoutingConfig = z.infer<typeof RoutingSchema>;

const Headers = z.record(z.string(), z.string());

export const ProviderSchemas = {
  openai: z.strictObject({
    type: z.literal('openai'),
    api_key: z.string().optional(),
    base_url: z.url().optional(),
    organization: z.string().optional(),
    project: z.string().optional(),
    headers: Headers.optional(),
    stream_usage: z.boolean().optional(),
  }),
  'openai-compatible': z.strictObject({
    type: z.literal('openai-compatible'),
    preset: z.string().optional(),
    api_key: z.string().optional(),
    base_url: z.url().optional(),
    headers: Headers.optional(),
    stream_usage: z.boolean().optional(),
  }),
  'azure-openai': z.strictObject({
    type: z.literal('azure-openai'),
    api_key: z.string().optional(),
    base_url: z.url(),
    api_version: z.string().optional(),
    deployments: z.record(z.string(), z.string()).optional(),
    headers: Headers.optional(),
  }),
  anthropic: z.strictObject({
    type: z.literal('anthropic'),
    api_key: z.string().optional(),
    base_url: z.url().optional(),
    version: z.string().optional(),
    headers: Headers.optional(),
    /** max_tokens sent when the caller gives none (Anthropic requires one). */
    default_max_tokens: z.number().int().positive().optional(),
  }),
  gemini: z.strictObject({
    type: z.literal('gemini'),
    api_key: z.string().optional(),
    base_url: z.url().optional(),
    headers: Headers.optional(),
  }),
  demo: z.strictObject({
    type: z.literal('demo'),
    latency_ms: z.number().int().min(0).optional(),
    chunk_delay_ms: z.number().int().min(0).optional(),
  }),
} as const;

export const ProviderSchema = z.discriminatedUnion('type', [
  ProviderSchemas.openai,
  ProviderSchemas['openai-compatible'],
  ProviderSchemas['azure-openai'],
  ProviderSchemas.anthropic,
  ProviderSchemas.gemini,
  ProviderSchemas.demo,
]);
export type ProviderConfig = z.infer<typeof ProviderSchema>;

const PriceRates = {
  /** USD per million input tokens. */
  input: z.number().min(0),
  /** USD per million cached input tokens read; defaults to `input`. */
  cached_input: z.number().min(0).optional(),
  /** USD per million input tokens written to the provider's prompt cache; defaults to `input`. */
  cache_write: z.number().min(0).optional(),
  /** USD per million output tokens. */
  output: z.number().min(0),
};

export const PriceSchema = z.strictObject({
  ...PriceRates,
  /**
   * Long-context tiers: when a call's input tokens exceed `above_input_tokens`, the whole
   * call is charged at that tier's rates (as Google and Anthropic price long prompts).
   */
  tiers: z.array(z.strictObject({ above_input_tokens: z.number().int().positive(), ...PriceRates })).optional(),
});
export type PriceConfig = z.infer<typeof PriceSchema>;

export const StaticKeySchema = z.strictObject({
  name: z.string().min(1),
  /** The secret itself, usually `${ENV_VAR}`; kept only as a hash in memory. */
  key: z.string().min(16, 'a key must be at least 16 characters'),
  models: z.array(z.string().min(1)).optional(),
  /** `read` opens the query API (`/api/*`) to this key. */
  roles: z.array(z.enum(['read'])).optional(),
  /** `metadata.team` names the key's team (team rate limits and budgets). */
  metadata: z.record(z.string(), z.unknown()).optional(),
  /** The key's own rate limits and budget. */
  limits: KeyLimitsSchema.optional(),
});

export const ServerSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  body_limit: ByteSize.default(10 * 1024 * 1024),
  /** How long SIGTERM waits for in-flight requests before draining traces and exiting. */
  shutdown_grace_ms: z.number().int().min(0).default(10_000),
  /**
   * The longest a client may take to send a whole request, headers and body (a slow sender
   * holds a connection open): past it, HTTP 408 and the connection is closed. The answer's
   * time does not count. 0: no limit (behind a proxy that enforces one).
   */
  request_timeout_ms: z.number().int().min(0).default(300_000),
  /**
   * The most request-body bytes the calls in flight may hold together (a body counts from
   * its first byte until its answer is done); a request that would go past it gets 503
   * `server_overloaded`, so a flood of large bodies cannot exhaust memory. Default: an eighth
   * of the JS heap limit (512 MiB with a 4 GiB heap); 0: no limit.
   */
  max_inflight_body_bytes: z.union([ByteSize, z.literal(0)]).optional(),
  log_level: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /**
   * `llmops serve`: how far (in %) the JS heap may grow past what the last full GC left
   * alive before the next full GC. Lower keeps memory down at some CPU cost; 0 leaves it to
   * V8's own heuristic (which lets a busy gateway's heap reach about 4x its live size).
   */
  heap_growth_percent: z.number().int().min(0).max(1000).default(20),
});

export const StoreSchema = z.strictObject({
  /**
   * `sqlite:PATH` (default `sqlite:./.llmops/llmops.db`), `sqlite::memory:`, or
   * `postgres://USER:PASSWORD@HOST:PORT/DB` (also `postgresql://`; `?schema=NAME` keeps the
   * tables in one schema) for several gateways sharing one database; migrations run at start.
   */
  url: z.string().default('sqlite:./.llmops/llmops.db'),
  /** Traces held in memory waiting for the writer; beyond this they are dropped and counted. */
  trace_queue_max: z.number().int().positive().default(100_000),
  /**
   * The same bound in bytes (payloads included): while the store is down, large prompts
   * must not fill the heap before the count is reached.
   */
  trace_queue_max_bytes: ByteSize.default(256 * 1024 * 1024),
  /**
   * Traces per insert transaction: larger batches cost SQLite less per trace (100: ~90 µs,
   * 2000: ~48 µs measured in `bench:store`), but everything a batch holds stays alive in the
   * writer thread's young generation while it is written: past about 300 traces (with full
   * capture) it outlives two scavenges and is copied to the old generation, which then
   * needs full GCs several times a second at 15,000 traces/s. 200: 4% less CPU per cache
   * hit than 500, GC helper threads 4.95 → 1.9 µs per call (README, Performance).
   */
  trace_batch_size: z.number().int().positive().default(200),
  /** Longest wait before a partial batch is written (how stale `/api/traces` may be). */
  trace_flush_ms: z.number().int().positive().default(100),
});

export const RedisSchema = z.strictObject({
  /** `redis://[:PASSWORD@]HOST:PORT[/DB]` (or `rediss://`): shared hot state for several gateway instances. */
  url: z.string().regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL'),
  /** Every key llmops writes starts with this, so deployments can share one Redis. */
  key_prefix: z.string().min(1).default('llmops'),
  /**
   * The URL is a seed node of a Redis Cluster (the other nodes are discovered). The limits'
   * keys then share one hash slot, so each request's check stays one atomic script.
   */
  cluster: z.boolean().default(false),
});
export type RedisConfigSchema = z.infer<typeof RedisSchema>;

export const CapturePolicySchema = z.enum(['full', 'metadata', 'redacted']);

export const TracesSchema = z.strictObject({
  capture: z
    .strictObject({
      /** full: request and answer stored; metadata: no payloads; redacted: payloads with the patterns below masked. */
      default: CapturePolicySchema.default('full'),
      /** Per key name or key id. */
      by_key: z.record(z.string(), CapturePolicySchema).default({}),
      /** Per requested model name. */
      by_model: z.record(z.string(), CapturePolicySchema).default({}),
      /** Regexes masked under `redacted`, in addition to the built-in ones (emails, card numbers, keys, ...). */
      redact: z
        .array(z.strictObject({ name: z.string().regex(/^[A-Z0-9_]+$/i), pattern: z.string().min(1) }))
        .default([]),
      /** Payloads larger than this (as JSON) are stored truncated, marked as such. */
      max_payload_bytes: ByteSize.default(256 * 1024),
    })
    .prefault({}),
  /** Traces older than this many days are deleted by a background job; 0 keeps them forever. */
  retention_days: z.number().int().min(0).default(30),
});
export type TracesConfig = z.infer<typeof TracesSchema>;

export const OtelExportSchema = z.strictObject({
  /** OTLP/HTTP traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint: z.url(),
  /** Extra request headers (auth for hosted backends). */
  headers: Headers.default({}),
  protocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
  /** Spans per export request. */
  batch_size: z.number().int().positive().max(10_000).default(512),
  /** Longest wait before a partial batch is sent. */
  flush_ms: Ms.default(1000),
  /** Spans held in memory waiting for export; beyond this they are dropped and counted. */
  max_queue: z.number().int().positive().default(10_000),
  /** Per export request. */
  timeout_ms: Ms.default(10_000),
  /** Retries of one batch (429, 5xx, connection errors) before it is dropped and counted. */
  max_retries: z.number().int().min(0).max(20).default(5),
  /** `service.name` of the exported resource. */
  service_name: z.string().min(1).default('llmops-gateway'),
});
export type OtelExportConfig = z.infer<typeof OtelExportSchema>;

export const OtelSchema = z.strictObject({
  /** `POST /v1/traces` (OTLP/HTTP) accepts application spans from any valid key. */
  ingest: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  /** Gateway calls sent as GenAI spans to an OTLP collector; disabled when absent. */
  export: OtelExportSchema.optional(),
});
export type OtelConfig = z.infer<typeof OtelSchema>;

export const MetricsSchema = z.strictObject({
  /** `GET /metrics` in the Prometheus text format. */
  enabled: z.boolean().default(true),
  /** When true, scrapes need a valid key (admin or virtual) as a bearer token. */
  auth: z.boolean().default(false),
  /** Node.js process metrics (CPU, memory, event loop lag, GC) beside the gateway's own. */
  process_metrics: z.boolean().default(true),
});
export type MetricsConfig = z.infer<typeof MetricsSchema>;

const CacheModelSchema = z.strictObject({
  enabled: z.boolean().optional(),
  ttl_seconds: z.number().int().positive().optional(),
  /** Cache answers to requests with `temperature > 0` for this model. */
  cache_nonzero_temperature: z.boolean().optional(),
  /** Semantic lookups for this model (when `cache.semantic` is configured). */
  semantic: z.boolean().optional(),
});

export const SemanticCacheSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Cosine similarity at or above which a near-duplicate question gets the cached answer. */
  threshold: z.number().gt(0).max(1).default(0.95),
  /** `local`: the built-in offline embedder; `{ model }`: an embedding model called through llmops' own providers. */
  embedder: z.union([z.literal('local'), z.strictObject({ model: z.string().min(1) })]).default('local'),
  /** Question vectors kept in the index (per instance); the least recently used go first. */
  max_entries: z.number().int().positive().default(100_000),
  /** With Redis: how often each instance pulls the vectors other instances filed. */
  sync_ms: Ms.default(1000),
});

export const CacheSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** `memory` (bounded LRU, per instance) or `redis` (shared); defaults to `redis` when `redis:` is configured. */
  backend: z.enum(['memory', 'redis']).optional(),
  ttl_seconds: z.number().int().positive().default(3600),
  /** Upper bound for the `x-llmops-cache-ttl` request header. */
  max_ttl_seconds: z.number().int().positive().default(7 * 24 * 3600),
  /** Memory backend bounds. */
  max_entries: z.number().int().positive().default(10_000),
  max_bytes: ByteSize.default(256 * 1024 * 1024),
  /** Cached answers are never shared across this boundary: the virtual key, or the key's `metadata.team`. */
  namespace: z.enum(['key', 'team']).default('key'),
  /** Cache answers to requests with `temperature > 0` (off: such requests skip the cache). */
  cache_nonzero_temperature: z.boolean().default(false),
  /** Per public model name (or `provider/*` pattern): TTL and switches. */
  models: z.record(z.string().min(1), CacheModelSchema).default({}),
  semantic: SemanticCacheSchema.optional(),
});
export type CacheConfig = z.infer<typeof CacheSchema>;

export const ConfigSchema = z.strictObject({
  /** Recorded with every trace (e.g. production, staging). */
  environment: z.string().min(1).default('development'),
  traces: TracesSchema.prefault({}),
  server: ServerSchema.prefault({}),
  store: StoreSchema.prefault({}),
  /** Shared hot state (rate limits, budgets, cache) for several instances; in memory when absent. */
  redis: RedisSchema.optional(),
  /** Add providers whose API keys are in the environment (OPENAI_API_KEY, ...). */
  providers_from_env: z.boolean().default(true),
  providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'provider names are letters, digits, - and _'), z.unknown()).default({}),
  models: z.record(z.string().min(1), ModelRouteSchema).default({}),
  routing: RoutingSchema.prefault({}),
  keys: z.array(StaticKeySchema).default([]),
  /** Price overrides and additions, per model name (USD per million tokens). */
  pricing: z.record(z.string().min(1), PriceSchema).default({}),
  /** OpenTelemetry: OTLP ingest of application spans, OTLP export of gateway calls. */
  otel: OtelSchema.prefault({}),
  /** Prometheus metrics at GET /metrics. */
  metrics: MetricsSchema.prefault({}),
  /** Rate limits (RPM/TPM) per key, user, team and model; off when absent (see limits/schema.ts). */
  limits: LimitsSchema.optional(),
  /** Budgets in USD per key, user, team, feature or globally; off when absent. */
  budgets: BudgetsSchema.optional(),
  /** Response cache (exact and semantic); off when absent. */
  cache: CacheSchema.optional(),
  /** Guardrail policies (input and output guards) and the human review queue; off when absent (see guards/policy/schema.ts). */
  guardrails: GuardrailsSchema.optional(),
});

export type RawConfig = z.infer<typeof ConfigSchema>;
