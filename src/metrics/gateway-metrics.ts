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
import type { Counter, Histogram, Registry } from 'prom-client';
import type { TraceRecord } from '../store/types.js';
import type { TraceSinkStats } from '../traces/trace-sink.js';
import type { IngestStats } from '../otel/otlp-ingest.js';
import type { ExporterStats } from '../otel/otlp-exporter.js';

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
  requests: Counter.Internal;
  duration: Histogram.Internal<string>;
  ttft: Histogram.Internal<string>;
  input: Counter.Internal;
  output: Counter.Internal;
  cost: Counter.Internal;
}

export class GatewayMetrics {
  readonly registry: Registry;
  private readonly known: Set<string>;
  private readonly priced: Set<string>;
  private readonly providers: Set<string>;
  private readonly learned = new Set<string>();
  private readonly series = new Map<string, Series>();

  private readonly requests: Counter<'endpoint' | 'provider' | 'model' | 'key' | 'status'>;
  private readonly errors: Counter<'endpoint' | 'provider' | 'model' | 'key' | 'code'>;
  private readonly duration: Histogram<'endpoint' | 'provider' | 'model' | 'stream'>;
  private readonly ttft: Histogram<'provider' | 'model'>;
  private readonly tokens: Counter<'provider' | 'model' | 'key' | 'type'>;
  private readonly cost: Counter<'provider' | 'model' | 'key'>;
  private readonly unpriced: Counter<'provider' | 'model'>;
  private readonly attempts: Counter<'provider' | 'status'>;
  private readonly otlpSpans: Counter<'kind'>;
  private readonly cacheLookups: Counter<'endpoint' | 'model' | 'key' | 'status' | 'kind'>;
  private readonly cacheSavedUsd: Counter<'model' | 'key'>;
  private readonly cacheSavedTokens: Counter<'model' | 'key' | 'type'>;

  constructor(opts: GatewayMetricsOptions) {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = prom();
    this.registry = new Registry();
    this.known = new Set(opts.knownModels);
    this.priced = new Set(opts.pricedModels);
    this.providers = new Set(opts.providers);
    const registers = [this.registry];

    this.requests = new Counter({
      name: 'llmops_requests_total',
      help: 'Gateway calls, by endpoint, provider that answered (or last tried), requested model, key id and HTTP status.',
      labelNames: ['endpoint', 'provider', 'model', 'key', 'status'],
      registers,
    });
    this.errors = new Counter({
      name: 'llmops_errors_total',
      help: 'Gateway calls that failed, by error code.',
      labelNames: ['endpoint', 'provider', 'model', 'key', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'llmops_request_duration_seconds',
      help: 'Gateway call latency, from request to the last byte of the answer.',
      labelNames: ['endpoint', 'provider', 'model', 'stream'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.ttft = new Histogram({
      name: 'llmops_time_to_first_token_seconds',
      help: 'Streaming calls: time to the first token.',
      labelNames: ['provider', 'model'],
      buckets: TTFT_BUCKETS,
      registers,
    });
    this.tokens = new Counter({
      name: 'llmops_tokens_total',
      help: 'Tokens by type: input (all, cached included), output (all, reasoning included), cached (input read from cache), cache_write, reasoning.',
      labelNames: ['provider', 'model', 'key', 'type'],
      registers,
    });
    this.cost = new Counter({
      name: 'llmops_cost_usd_total',
      help: 'Cost of gateway calls in USD (calls with a known price).',
      labelNames: ['provider', 'model', 'key'],
      registers,
    });
    this.unpriced = new Counter({
      name: 'llmops_unpriced_requests_total',
      help: 'Answered calls whose model has no known price (cost unknown, never counted as 0).',
      labelNames: ['provider', 'model'],
      registers,
    });
    this.attempts = new Counter({
      name: 'llmops_upstream_attempts_total',
      help: 'Attempts at upstream providers (retries and fallbacks included), by upstream HTTP status (none: no answer).',
      labelNames: ['provider', 'status'],
      registers,
    });
    this.otlpSpans = new Counter({
      name: 'llmops_otlp_spans_total',
      help: 'Application spans accepted from OTLP ingest, by kind (llm or span).',
      labelNames: ['kind'],
      registers,
    });

    this.cacheLookups = new Counter({
      name: 'llmops_cache_requests_total',
      help: 'Response cache lookups by result: hit (kind exact or semantic) or miss. Requests that skip the cache are not counted.',
      labelNames: ['endpoint', 'model', 'key', 'status', 'kind'],
      registers,
    });
    this.cacheSavedUsd = new Counter({
      name: 'llmops_cache_saved_usd_total',
      help: 'What cache hits saved in USD: the cost of the original calls they answered again (hits with a known price).',
      labelNames: ['model', 'key'],
      registers,
    });
    this.cacheSavedTokens = new Counter({
      name: 'llmops_cache_saved_tokens_total',
      help: 'Tokens cache hits saved, by type (input, output).',
      labelNames: ['model', 'key', 'type'],
      registers,
    });

    const sink = opts.sinkStats;
    new Gauge({ name: 'llmops_trace_queue_size', help: 'Traces waiting for the trace writer.', registers, collect() {
      this.set(sink.queued);
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

    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
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
      this.otlpSpans.inc({ kind: t.kind });
      return;
    }
    const lastAttempt = t.attempts[t.attempts.length - 1];
    const provider = t.provider ?? lastAttempt?.provider ?? 'none';
    const model = this.modelLabel(t);
    const key = t.key_id ?? 'none';
    const s = this.seriesFor(t.endpoint, provider, model, key, t.http_status, t.stream);
    s.requests.inc();
    if (t.status === 'error') this.errors.inc({ endpoint: t.endpoint, provider, model, key, code: t.error_code ?? 'unknown' });
    s.duration.observe(t.latency_ms / 1000);
    if (t.ttft_ms !== null) s.ttft.observe(t.ttft_ms / 1000);
    if (t.usage) {
      const u = t.usage;
      s.input.inc(u.input);
      s.output.inc(u.output);
      if (u.cached_input > 0) this.tokens.inc({ provider, model, key, type: 'cached' }, u.cached_input);
      if (u.cache_write > 0) this.tokens.inc({ provider, model, key, type: 'cache_write' }, u.cache_write);
      if (u.reasoning > 0) this.tokens.inc({ provider, model, key, type: 'reasoning' }, u.reasoning);
    }
    if (t.cost_usd !== null) s.cost.inc(t.cost_usd);
    else if (t.usage && t.provider !== null) this.unpriced.inc({ provider, model });
    for (const a of t.attempts) this.attempts.inc({ provider: a.provider, status: a.status === null ? 'none' : String(a.status) });
    if (t.cache_status === 'hit' || t.cache_status === 'miss') this.observeCache(t, model, key);
  }

  /**
   * The labelled children one call updates, looked up by one string: prom-client would
   * otherwise hash and sort every label object on every call. Bounded like the label sets.
   */
  private seriesFor(endpoint: string, provider: string, model: string, key: string, status: number, stream: boolean): Series {
    const id = `${endpoint}\u0000${provider}\u0000${model}\u0000${key}\u0000${status}\u0000${stream ? 1 : 0}`;
    let s = this.series.get(id);
    if (!s) {
      if (this.series.size >= 10_000) this.series.clear();
      s = {
        requests: this.requests.labels({ endpoint, provider, model, key, status: String(status) }),
        duration: this.duration.labels({ endpoint, provider, model, stream: String(stream) }),
        ttft: this.ttft.labels({ provider, model }),
        input: this.tokens.labels({ provider, model, key, type: 'input' }),
        output: this.tokens.labels({ provider, model, key, type: 'output' }),
        cost: this.cost.labels({ provider, model, key }),
      };
      this.series.set(id, s);
    }
    return s;
  }

  private observeCache(t: TraceRecord, model: string, key: string): void {
    if (t.cache_status === 'miss') {
      this.cacheLookups.inc({ endpoint: t.endpoint, model, key, status: 'miss', kind: 'none' });
      return;
    }
    const a = t.attributes ?? {};
    const kind = a['llmops.cache.kind'] === 'semantic' ? 'semantic' : 'exact';
    this.cacheLookups.inc({ endpoint: t.endpoint, model, key, status: 'hit', kind });
    const usd = a['llmops.cache.saved_usd'];
    if (typeof usd === 'number') this.cacheSavedUsd.inc({ model, key }, usd);
    const input = a['llmops.cache.saved_input_tokens'];
    const output = a['llmops.cache.saved_output_tokens'];
    if (typeof input === 'number' && input > 0) this.cacheSavedTokens.inc({ model, key, type: 'input' }, input);
    if (typeof output === 'number' && output > 0) this.cacheSavedTokens.inc({ model, key, type: 'output' }, output);
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
