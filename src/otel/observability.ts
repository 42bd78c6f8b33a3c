/**
 * Wires the observability outputs of one gateway to its trace sink: OTLP ingest
 * (`POST /v1/traces`), OTLP export of gateway calls (when `otel.export` is configured) and
 * Prometheus metrics (`GET /metrics`). Returns the HTTP plugins to register and a `close()`
 * that flushes the exporter; the sink listeners do only in-memory work.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config/load.js';
import type { ReloadStats } from '../config/reload-plan.js';
import type { KeyService } from '../keys/key-service.js';
import type { Logger } from '../logger.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { metricsRoute } from '../metrics/metrics-route.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { CaptureSettings } from '../traces/capture.js';
import type { TraceSink } from '../traces/trace-sink.js';
import { OtlpTraceExporter } from './otlp-exporter.js';
import { OtlpIngest } from './otlp-ingest.js';
import { otlpRoute } from './otlp-route.js';
import { genAiProviderName } from './record-span.js';

export interface ObservabilityDeps {
  config: Config;
  sink: TraceSink;
  keys: KeyService;
  prices: PriceTable;
  capture: CaptureSettings;
  /** Every provider name the gateway can route to. */
  providerNames: Iterable<string>;
  /** Config reload outcomes (for `/metrics`). */
  reloadStats?: ReloadStats;
  log: Logger;
}

export interface Observability {
  /** Fastify plugins with the routes (`/v1/traces`, `/metrics`), per config. */
  readonly plugins: FastifyPluginAsync[];
  readonly metrics: GatewayMetrics | undefined;
  readonly exporter: OtlpTraceExporter | undefined;
  readonly ingest: OtlpIngest | undefined;
  /** After a config reload: the metrics learn the new models and providers (the rest of `otel:`/`metrics:` needs a restart). */
  reconfigured(config: Config, providerNames: Iterable<string>): void;
  /** Stops listening to the sink and sends what the exporter still holds. */
  close(): Promise<void>;
}

/** Public model names and `provider/model` of every configured target. */
function configuredModels(config: Config): string[] {
  const out = new Set<string>();
  for (const [name, route] of Object.entries(config.models)) {
    out.add(name);
    for (const t of [...route.targets, ...(route.context_fallback ?? [])]) out.add(`${t.provider}/${t.model}`);
  }
  return [...out];
}

/**
 * @example
 * const obs = createObservability({ config, sink, keys, prices, capture, providerNames: providers.keys(), log });
 * const app = buildServer({ ...deps, plugins: obs.plugins });
 */
export function createObservability(deps: ObservabilityDeps): Observability {
  const { config, sink, log } = deps;
  const plugins: FastifyPluginAsync[] = [];
  const unsubscribe: Array<() => void> = [];

  const ingest = config.otel.ingest.enabled ? new OtlpIngest({ sink, prices: deps.prices, capture: deps.capture }) : undefined;
  if (ingest) plugins.push(otlpRoute({ ingest, keys: deps.keys, bodyLimit: config.server.body_limit, log }));

  const exp = config.otel.export;
  let exporter: OtlpTraceExporter | undefined;
  if (exp) {
    const providerName = (name: string): string => {
      const p = config.providers[name];
      return genAiProviderName(name, p?.type, p && 'preset' in p ? p.preset : undefined);
    };
    exporter = new OtlpTraceExporter({
      endpoint: exp.endpoint,
      headers: exp.headers,
      protocol: exp.protocol,
      batchSize: exp.batch_size,
      flushMs: exp.flush_ms,
      maxQueue: exp.max_queue,
      timeoutMs: exp.timeout_ms,
      maxRetries: exp.max_retries,
      resource: [
        { key: 'service.name', value: { stringValue: exp.service_name } },
        { key: 'deployment.environment.name', value: { stringValue: config.environment } },
      ],
      providerName,
      log,
    });
    const e = exporter;
    unsubscribe.push(sink.subscribe((t) => e.offer(t)));
  }

  let metrics: GatewayMetrics | undefined;
  if (config.metrics.enabled) {
    metrics = new GatewayMetrics({
      knownModels: configuredModels(config),
      pricedModels: deps.prices.models(),
      providers: deps.providerNames,
      processMetrics: config.metrics.process_metrics,
      sinkStats: sink.stats,
      ingestStats: ingest?.stats,
      exporterStats: exporter?.stats,
      reloadStats: deps.reloadStats,
    });
    const m = metrics;
    unsubscribe.push(sink.subscribe((t) => m.observe(t)));
    plugins.push(metricsRoute({ metrics, keys: deps.keys, auth: config.metrics.auth }));
  }

  return {
    plugins,
    metrics,
    exporter,
    ingest,
    reconfigured(next, providerNames) {
      metrics?.setNames({ knownModels: configuredModels(next), pricedModels: deps.prices.models(), providers: providerNames });
    },
    async close() {
      for (const u of unsubscribe) u();
      if (exporter) await exporter.shutdown();
    },
  };
}
