/**
 * Config reload for a running gateway (SIGHUP, `POST /admin/reload`, `llmops serve --watch`):
 * routes, providers, keys from config, prices, capture, guardrails, limits and budgets are
 * taken over in place, from the next request on; calls in flight finish as they started.
 * Everything is built before anything changes, so an invalid config is refused (as
 * `config_invalid`) and the running one stays. Sections that need a restart are named (see
 * `reload-plan.ts`) and keep running as they started. Reloads run one at a time; each is
 * counted for `/metrics` and written to the audit log.
 *
 * @example
 * const reloader = new ConfigReloader(config, providers, parts);
 * await reloader.reload(undefined, { actor: 'signal:SIGHUP' }); // { source, applied, restart_required }
 */
import { isDeepStrictEqual } from 'node:util';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import { LlmopsError } from '../errors.js';
import { GuardrailEngine } from '../guards/policy/engine.js';
import { ReviewQueue } from '../guards/review/review-queue.js';
import type { GuardDetectors } from '../guards/policy/input-guards.js';
import type { KeyService } from '../keys/key-service.js';
import type { LimitsService } from '../limits/index.js';
import type { Logger } from '../logger.js';
import { loadBuiltinPrices, PriceTable } from '../pricing/price-table.js';
import { createProvider } from '../providers/registry.js';
import type { Provider } from '../providers/types.js';
import type { CircuitBreaker } from '../routing/circuit-breaker.js';
import type { ExecutorDeps } from '../routing/executor.js';
import type { LatencyTracker } from '../routing/latency-tracker.js';
import { ModelRouter } from '../routing/router.js';
import type { Store } from '../store/types.js';
import { CaptureSettings } from '../traces/capture.js';
import { ConfigError, type Config } from './load.js';
import { planReload, type ReloadStats } from './reload-plan.js';

/** What a config reload did. */
export interface ReloadResult {
  /** Where the new config came from (a file path, `defaults` or `inline`). */
  source: string;
  /** Changed sections now in effect. */
  applied: string[];
  /** Changed sections that keep their running values until a restart. */
  restart_required: string[];
}

/** The running gateway's parts a reload changes in place, and what it reports to. */
export interface ReloadableParts {
  keys: KeyService;
  router: ModelRouter;
  executor: ExecutorDeps;
  breaker: CircuitBreaker;
  latency: LatencyTracker;
  prices: PriceTable;
  capture: CaptureSettings;
  limits: LimitsService | undefined;
  store: Store;
  detectors: GuardDetectors;
  /** Providers given by name beside the configured ones (tests): always kept. */
  extraProviders: ReadonlyMap<string, Provider>;
  guardrails: GuardrailEngine | undefined;
  review: ReviewQueue | undefined;
  stats: ReloadStats;
  audit: AuditLog;
  log: Logger;
  random?: (() => number) | undefined;
  /** Reads the config anew when a reload is not given one. */
  loadConfig?: (() => Config) | undefined;
  /** After a reload is committed: the pipeline is rebuilt and the metrics told. */
  applied(running: Config, providerNames: Iterable<string>): void;
}

/** `configured` with the extra providers (tests) put in under their names. */
export function withExtras(configured: Map<string, Provider>, extras: ReadonlyMap<string, Provider>): Map<string, Provider> {
  for (const [name, p] of extras) configured.set(name, p);
  return configured;
}

export class ConfigReloader {
  /** The running config: the one started with, with the sections reloads took over. */
  running: Config;
  /** Changed sections the last reload could not apply (they wait for a restart). */
  pendingRestart: readonly string[] = [];
  guardrails: GuardrailEngine | undefined;
  review: ReviewQueue | undefined;
  private providers: Map<string, Provider>;
  /** Providers a reload replaced, closed once the calls that may still use them are done. */
  private readonly retired = new Set<Provider>();
  private reloading: Promise<unknown> = Promise.resolve();

  constructor(
    config: Config,
    providers: Map<string, Provider>,
    private readonly parts: ReloadableParts,
  ) {
    this.running = config;
    this.providers = providers;
    this.guardrails = parts.guardrails;
    this.review = parts.review;
  }

  /** Reloads `next`, else what `loadConfig` reads; `by` goes to the audit log. */
  reload(next?: Config, by: AuditActor = { actor: 'internal' }): Promise<ReloadResult> {
    const run = (): Promise<ReloadResult> => this.counted(next, by);
    const result = this.reloading.then(run, run);
    this.reloading = result.catch(() => undefined);
    return result;
  }

  /** Waits for a reload in progress, then closes every provider (replaced ones too) and the review queue. */
  async close(): Promise<void> {
    await this.reloading;
    await this.review?.close();
    await Promise.all([...this.providers.values(), ...this.retired].map((p) => p.close?.()));
    this.retired.clear();
  }

  private async counted(next: Config | undefined, by: AuditActor): Promise<ReloadResult> {
    const { stats, audit, log } = this.parts;
    try {
      const r = await this.apply(next ?? this.read());
      stats.succeeded++;
      stats.lastSuccessful = true;
      stats.lastSuccessAt = Date.now();
      await audit.record(by, 'config.reload', r.source, { applied: r.applied, restart_required: r.restart_required });
      return r;
    } catch (err) {
      stats.failed++;
      stats.lastSuccessful = false;
      log.error('config reload failed; the running config stays', { err });
      await audit.record(by, 'config.reload_failed', next?.source ?? this.running.source, { error: (err as Error).message });
      throw err;
    }
  }

  private read(): Config {
    if (!this.parts.loadConfig) throw new LlmopsError('config_invalid', 'This gateway has no config source to reload from.');
    try {
      return this.parts.loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) throw new LlmopsError('config_invalid', `${err.message}\nThe running config stays.`, { cause: err });
      throw err;
    }
  }

  private async apply(next: Config): Promise<ReloadResult> {
    const p = this.parts;
    const running = this.running;
    const plan = planReload(running, next, { limitsRunning: p.limits !== undefined });
    // Build everything first: a config that fails here leaves the running one untouched.
    const created: Provider[] = [];
    const providers = new Map<string, Provider>();
    let router: ModelRouter;
    let prices: PriceTable;
    let capture: CaptureSettings;
    let guardrails: GuardrailEngine | undefined;
    try {
      for (const [name, pc] of Object.entries(next.providers)) {
        const old = this.providers.get(name);
        // An unchanged provider is kept, with its connection pool.
        if (old && !p.extraProviders.has(name) && isDeepStrictEqual(running.providers[name], pc)) providers.set(name, old);
        else {
          const made = createProvider(name, pc);
          created.push(made);
          providers.set(name, made);
        }
      }
      withExtras(providers, p.extraProviders);
      router = new ModelRouter(next, providers);
      prices = new PriceTable(loadBuiltinPrices(), next.pricing);
      capture = new CaptureSettings(next.traces.capture);
      guardrails = next.guardrails ? new GuardrailEngine(next.guardrails, p.detectors) : undefined;
    } catch (err) {
      await Promise.all(created.map((c) => c.close?.()));
      throw new LlmopsError('config_invalid', `The new config (${next.source}) was not applied: ${(err as Error).message}`, { cause: err });
    }
    // Commit: every swap below is synchronous, so no request sees half of it.
    const oldProviders = this.providers;
    this.providers = providers;
    p.router.replaceWith(router);
    p.executor.routing = next.routing;
    p.breaker.configure(next.routing.circuit_breaker);
    p.latency.setAlpha(next.routing.latency_ewma_alpha);
    p.prices.replaceWith(prices);
    p.capture.replaceWith(capture);
    p.keys.setStaticKeys(next.keys);
    p.limits?.configure(next.limits, next.budgets);
    const oldReview = this.review;
    const reviewKept = oldReview !== undefined && next.guardrails !== undefined && isDeepStrictEqual(running.guardrails?.review, next.guardrails.review);
    this.guardrails = guardrails;
    if (!reviewKept) this.review = next.guardrails ? new ReviewQueue(p.store, next.guardrails.review, p.log, p.random) : undefined;
    const restartOnly = new Set(plan.restartRequired);
    this.running = {
      ...next,
      // What needs a restart keeps running as it started.
      server: running.server,
      store: running.store,
      redis: running.redis,
      cache: running.cache,
      otel: running.otel,
      metrics: running.metrics,
      traces: { ...running.traces, capture: next.traces.capture },
      limits: restartOnly.has('limits') ? running.limits : next.limits,
      budgets: restartOnly.has('budgets') ? running.budgets : next.budgets,
      source: next.source,
    };
    this.pendingRestart = plan.restartRequired;
    p.applied(this.running, providers.keys());
    for (const [name, old] of oldProviders) {
      if (providers.get(name) === old || p.extraProviders.has(name)) continue;
      this.retire(old);
      // A changed provider starts with closed circuits and no latency estimates.
      p.breaker.forgetProvider(name);
      p.latency.forgetProvider(name);
    }
    if (oldReview && !reviewKept) await oldReview.close();
    p.log.info('config reloaded', { source: next.source, applied: plan.apply, restart_required: plan.restartRequired });
    if (plan.restartRequired.length > 0) p.log.warn('config reload: these sections changed but need a restart to take effect', { sections: plan.restartRequired });
    return { source: next.source, applied: plan.apply, restart_required: plan.restartRequired };
  }

  /** Closes a replaced provider once calls that started on it are surely done (`routing.timeout_ms` + 5 s), or at shutdown. */
  private retire(provider: Provider): void {
    this.retired.add(provider);
    const wait = Math.max(this.running.routing.timeout_ms, 1000) + 5000;
    setTimeout(() => {
      if (!this.retired.delete(provider)) return;
      Promise.resolve(provider.close?.()).catch((err: unknown) => this.parts.log.warn('closing a replaced provider failed', { provider: provider.name, err }));
    }, wait).unref();
  }
}
