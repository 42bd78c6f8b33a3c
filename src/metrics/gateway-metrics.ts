/**
 * Prometheus metrics for one gateway, in its own prom-client {@link Registry} (several
 * gateways may share a process). Fed by the trace sink's listener: `observe()` does a few
 * counter increments per record and nothing else. Trace-writer, OTLP ingest and OTLP
 * export figures are read from their stats objects at scrape time.
 *
 * Label sets stay bounded: no user ids or other caller-chosen strings; `model` is the
 * requested model only when the gateway knows it (a configured public name or target, a
 * priced model, or one a provider actually served, up to {@link MAX_LEARNED_MODELS}),
 * otherwise `other`; `key` is the key id.
 *
 * prom-client is loaded when the first GatewayMetrics is made, not at import, so CLI
 * commands that never start a gateway do not pay for it.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Registry } from 'prom-client';
import { SeriesCounter, SeriesHistogram, type CounterSeries, type HistogramSeries } from './series-metrics.js';
import type { TraceRecord } from '../store/types.js';
import type { TraceSinkStats } from '../traces/trace-sink.js';
import type { IngestStats } from '../otel/otlp-ingest.js';
import type { ExporterStats } from '../otel/otlp-exporter.js';
import type { ReloadStats } from '../config/reload-plan.js';

/** Requested models learned from successful answers, beyond the configured and priced ones. */
export const MAX_LEARNED_MODELS = 100;

export interface GatewayMetricsOptions {
  /** Public model names and configured `provider/model` targets. */
  knownModels: Iterable<string>;
  /** Model names with a price (a `provider/model` request counts as known when its model is priced). */
  pricedModels: Iterable<string>;
  /** Configured provider names. */
  providers: Iterable<string>;
  /** Also export Node.js process metrics (CPU, memory, event loop, GC). */
  processMetrics: boolean;
  sinkStats: TraceSinkStats;
  ingestStats?: IngestStats | undefined;
  exporterStats?: ExporterStats | undefined;
  reloadStats?: ReloadStats | undefined;
}

const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/**
 * @example
 * const metrics = new GatewayMetrics({ knownModels: ['chat'], pricedModels: [], providers: ['openai'], processMetrics: false, sinkStats: sink.stats });
 * sink.subscribe((t) => metrics.observe(t));
 * const text = await metrics.registry.metrics();
 */
let promClient: typeof PromClient | undefined;
function prom(): typeof PromClient {
  promClient ??= createRequire(import.meta.url)('prom-client') as typeof PromClient;
  return promClient;
}

interface Series {
  requests: CounterSeries;
  duration: HistogramSeries;
  ttft: HistogramSeries;
  input: CounterSeries;
  output: CounterSeries;
  cost: CounterSeries;
  /** The cache series of this call's endpoint, model and key, made on the first hit or miss. */
  cache?: CacheSeries;
}

interface CacheSeries {
  miss: CounterSeries;
  exact: CounterSeries;
  semantic: CounterSeries;
  savedUsd: CounterSeries;
  savedInput: CounterSeries;
  savedOutput: CounterSeries;
}

export class GatewayMetrics {
  readonly registry: Registry;
  private known: Set<string>;
  private priced: Set<string>;
  private providers: Set<string>;
  private readonly learned = new Set<string>();
  private readonly series = new Map<string, Series>();

  // The request path's metrics: found by one key per series, updated with plain arithmetic.
  private readonly requests: SeriesCounter;
  private readonly errors: SeriesCounter;
  private readonly duration: SeriesHistogram;
  private readonly ttft: SeriesHistogram;
  private readonly tokens: SeriesCounter;
  private readonly cost: SeriesCounter;
  private readonly unpriced: SeriesCounter;
  private readonly attempts: SeriesCounter;
  private readonly otlpSpans: SeriesCounter;
  private readonly cacheLookups: SeriesCounter;
  private readonly cacheSavedUsd: SeriesCounter;
  private readonly cacheSavedTokens: SeriesCounter;

  constructor(opts: GatewayMetricsOptions) {
    const { Counter, Gauge, Registry, collectDefaultMetrics } = prom();
    this.registry = new Registry();
    this.known = new Set(opts.knownModels);
    this.priced = new Set(opts.pricedModels);
    this.providers = new Set(opts.providers);
    const registers = [this.registry];

    this.requests = new SeriesCounter('llmops_requests_total', 'Gateway calls, by endpoint, provider that answered (or last tried), requested model, key id and HTTP status.', ['endpoint', 'provider', 'model', 'key', 'status'], this.registry);
    this.errors = new SeriesCounter('llmops_errors_total', 'Gateway calls that failed, by error code.', ['endpoint', 'provider', 'model', 'key', 'code'], this.registry);
    this.duration = new SeriesHistogram('llmops_request_duration_seconds', 'Gateway call latency, from request to the last byte of the answer.', ['endpoint', 'provider', 'model', 'stream'], LATENCY_BUCKETS, this.registry);
    this.ttft = new SeriesHistogram('llmops_time_to_first_token_seconds', 'Streaming calls: time to the first token.', ['provider', 'model'], TTFT_BUCKETS, this.registry);
    this.tokens = new SeriesCounter('llmops_tokens_total', 'Tokens by type: input (all, cached included), output (all, reasoning included), cached (input read from cache), cache_write, reasoning.', ['provider', 'model', 'key', 'type'], this.registry);
    this.cost = new SeriesCounter('llmops_cost_usd_total', 'Cost of gateway calls in USD (calls with a known price).', ['provider', 'model', 'key'], this.registry);
    this.unpriced = new SeriesCounter('llmops_unpriced_requests_total', 'Answered calls whose model has no known price (cost unknown, never counted as 0).', ['provider', 'model'], this.registry);
    this.attempts = new SeriesCounter('llmops_upstream_attempts_total', 'Attempts at upstream providers (retries and fallbacks included), by upstream HTTP status (none: no answer).', ['provider', 'status'], this.registry);
    this.otlpSpans = new SeriesCounter('llmops_otlp_spans_total', 'Application spans accepted from OTLP ingest, by kind (llm or span).', ['kind'], this.registry);

    this.cacheLookups = new SeriesCounter('llmops_cache_requests_total', 'Response cache lookups by result: hit (kind exact or semantic) or miss. Requests that skip the cache are not counted.', ['endpoint', 'model', 'key', 'status', 'kind'], this.registry);
    this.cacheSavedUsd = new SeriesCounter('llmops_cache_saved_usd_total', 'What cache hits saved in USD: the cost of the original calls they answered again (hits with a known price).', ['model', 'key'], this.registry);
    this.cacheSavedTokens = new SeriesCounter('llmops_cache_saved_tokens_total', 'Tokens cache hits saved, by type (input, output).', ['model', 'key', 'type'], this.registry);

    const sink = opts.sinkStats;
    new Gauge({ name: 'llmops_trace_queue_size', help: 'Traces waiting for the trace writer.', registers, collect() {
      this.set(sink.queued);
    } });
    new Gauge({ name: 'llmops_trace_queue_bytes', help: 'Approximate bytes held by traces waiting for the trace writer (bounded by store.trace_queue_max_bytes).', registers, collect() {
      this.set(sink.queuedBytes);
    } });
    mirror('llmops_traces_written_total', 'Traces written to the store.', () => sink.written, registers);
    mirror('llmops_traces_dropped_total', 'Traces dropped because the queue was full or the store failed past the drain timeout.', () => sink.dropped, registers);
    mirror('llmops_traces_rejected_total', 'Traces the store refused for good (a value it cannot hold); the rest of their batch was stored.', () => sink.rejected, registers);
    mirror('llmops_trace_write_failures_total', 'Failed batch writes to the store (each is retried).', () => sink.writeFailures, registers);

    const ingest = opts.ingestStats;
    if (ingest) {
      mirror('llmops_otlp_requests_total', 'OTLP export requests decoded at /v1/traces.', () => ingest.requests, registers);
      mirror('llmops_otlp_bad_requests_total', 'OTLP export requests refused as undecodable.', () => ingest.badRequests, registers);
      mirror('llmops_otlp_spans_rejected_total', 'OTLP spans rejected (invalid ids or times, the same span id twice in one request).', () => ingest.rejected, registers);
      mirror('llmops_otlp_spans_duplicate_total', 'OTLP spans received again (a sender retrying an export): acknowledged, not stored twice.', () => ingest.duplicates, registers);
    }

    const exp = opts.exporterStats;
    if (exp) {
      new Gauge({ name: 'llmops_otel_export_queue_size', help: 'Spans waiting for OTLP export.', registers, collect() {
        this.set(exp.queued);
      } });
      new Counter({
        name: 'llmops_otel_export_spans_total',
        help: 'Gateway spans by export outcome: exported, dropped (queue full), failed (retries exhausted), rejected (by the collector).',
        labelNames: ['result'],
        registers,
        collect() {
          this.reset();
          this.inc({ result: 'exported' }, exp.exported);
          this.inc({ result: 'dropped' }, exp.dropped);
          this.inc({ result: 'failed' }, exp.failed);
          this.inc({ result: 'rejected' }, exp.rejected);
        },
      });
      mirror('llmops_otel_export_request_failures_total', 'OTLP export requests that failed (each retry counts).', () => exp.requestFailures, registers);
    }

    const reloads = opts.reloadStats;
    if (reloads) {
      new Counter({
        name: 'llmops_config_reloads_total',
        help: 'Config reloads (SIGHUP, POST /admin/reload) by result: success, or failure (the running config stayed).',
        labelNames: ['result'],
        registers,
        collect() {
          this.reset();
          this.inc({ result: 'success' }, reloads.succeeded);
          this.inc({ result: 'failure' }, reloads.failed);
        },
      });
      new Gauge({ name: 'llmops_config_last_reload_successful', help: 'Whether the last config reload succeeded (1 before any reload).', registers, collect() {
        this.set(reloads.lastSuccessful ? 1 : 0);
      } });
      new Gauge({ name: 'llmops_config_last_reload_success_timestamp_seconds', help: 'When the running config was loaded: the start, or the last successful reload.', registers, collect() {
        this.set(reloads.lastSuccessAt / 1000);
      } });
    }

    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The configured and priced models and the providers anew (a config reload), so a model
   * added by the reload gets its own label; names seen so far keep theirs.
   */
  setNames(names: Pick<GatewayMetricsOptions, 'knownModels' | 'pricedModels' | 'providers'>): void {
    this.known = new Set([...this.known, ...names.knownModels]);
    this.priced = new Set(names.pricedModels);
    this.providers = new Set([...this.providers, ...names.providers]);
  }

  /** The `model` label for a requested model: itself when known, else `other`. */
  modelLabel(t: Pick<TraceRecord, 'requested_model' | 'status' | 'provider_model'>): string {
    const m = t.requested_model;
    if (!m) return 'none';
    if (this.known.has(m) || this.priced.has(m) || this.learned.has(m)) return m;
    const slash = m.indexOf('/');
    if (slash > 0 && this.providers.has(m.slice(0, slash)) && this.priced.has(m.slice(slash + 1))) return m;
    if (t.status === 'ok' && t.provider_model !== null && this.learned.size < MAX_LEARNED_MODELS) {
      this.learned.add(m);
      return m;
    }
    return 'other';
  }

  /** Counts one recorded call or ingested span; cheap, synchronous, never throws for odd records. */
  observe(t: TraceRecord): void {
    if (t.source !== 'gateway') {
      this.otlpSpans.inc(1, t.kind);
      return;
    }
    const lastAttempt = t.attempts[t.attempts.length - 1];
    const provider = t.provider ?? lastAttempt?.provider ?? 'none';
    const model = this.modelLabel(t);
    const key = t.key_id ?? 'none';
    const s = this.seriesFor(t.endpoint, provider, model, key, t.http_status, t.stream);
    this.requests.add(s.requests, 1);
    if (t.status === 'error') this.errors.inc(1, t.endpoint, provider, model, key, t.error_code ?? 'unknown');
    this.duration.observe(s.duration, t.latency_ms / 1000);
    if (t.ttft_ms !== null) this.ttft.observe(s.ttft, t.ttft_ms / 1000);
    if (t.usage) {
      const u = t.usage;
      this.tokens.add(s.input, u.input);
      this.tokens.add(s.output, u.output);
      if (u.cached_input > 0) this.tokens.inc(u.cached_input, provider, model, key, 'cached');
      if (u.cache_write > 0) this.tokens.inc(u.cache_write, provider, model, key, 'cache_write');
      if (u.reasoning > 0) this.tokens.inc(u.reasoning, provider, model, key, 'reasoning');
    }
    if (t.cost_usd !== null) this.cost.add(s.cost, t.cost_usd);
    else if (t.usage && t.provider !== null) this.unpriced.inc(1, provider, model);
    for (const a of t.attempts) this.attempts.inc(1, a.provider, a.status === null ? 'none' : String(a.status));
    if (t.cache_status === 'hit' || t.cache_status === 'miss') this.observeCache(t, (s.cache ??= this.cacheSeries(t.endpoint, model, key)));
  }

  /** The series one call updates, looked up by one string. Bounded like the label sets. */
  private seriesFor(endpoint: string, provider: string, model: string, key: string, status: number, stream: boolean): Series {
    const id = `${endpoint}\u0000${provider}\u0000${model}\u0000${key}\u0000${status}\u0000${stream ? 1 : 0}`;
    let s = this.series.get(id);
    if (!s) {
      if (this.series.size >= 10_000) this.series.clear();
      s = {
        requests: this.requests.at(endpoint, provider, model, key, String(status)),
        duration: this.duration.at(endpoint, provider, model, String(stream)),
        ttft: this.ttft.at(provider, model),
        input: this.tokens.at(provider, model, key, 'input'),
        output: this.tokens.at(provider, model, key, 'output'),
        cost: this.cost.at(provider, model, key),
      };
      this.series.set(id, s);
    }
    return s;
  }

  private cacheSeries(endpoint: string, model: string, key: string): CacheSeries {
    return {
      miss: this.cacheLookups.at(endpoint, model, key, 'miss', 'none'),
      exact: this.cacheLookups.at(endpoint, model, key, 'hit', 'exact'),
      semantic: this.cacheLookups.at(endpoint, model, key, 'hit', 'semantic'),
      savedUsd: this.cacheSavedUsd.at(model, key),
      savedInput: this.cacheSavedTokens.at(model, key, 'input'),
      savedOutput: this.cacheSavedTokens.at(model, key, 'output'),
    };
  }

  private observeCache(t: TraceRecord, c: CacheSeries): void {
    if (t.cache_status === 'miss') {
      this.cacheLookups.add(c.miss, 1);
      return;
    }
    const a = t.attributes ?? {};
    this.cacheLookups.add(a['llmops.cache.kind'] === 'semantic' ? c.semantic : c.exact, 1);
    const usd = a['llmops.cache.saved_usd'];
    if (typeof usd === 'number') this.cacheSavedUsd.add(c.savedUsd, usd);
    const input = a['llmops.cache.saved_input_tokens'];
    const output = a['llmops.cache.saved_output_tokens'];
    if (typeof input === 'number' && input > 0) this.cacheSavedTokens.add(c.savedInput, input);
    if (typeof output === 'number' && output > 0) this.cacheSavedTokens.add(c.savedOutput, output);
  }
}

/** A counter that shows a monotonic figure kept elsewhere (read at scrape time). */
function mirror(name: string, help: string, read: () => number, registers: Registry[]): Counter {
  return new (prom().Counter)({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
