/**
 * Model resolution: a public model name (from `models:`) becomes a route with a strategy
 * and targets; a `provider/model` name routes straight to that provider. Routes are
 * compiled once at start, not per request.
 */
import type { Config } from '../config/load.js';
import type { ModelRouteConfig, Strategy, TargetConfig, TrimConfig } from '../config/schema.js';
import { LlmopsError } from '../errors.js';
import type { Provider } from '../providers/types.js';
import { capabilitiesOf, type ModelCapabilities } from './capabilities.js';

export interface ResolvedTarget {
  /** `provider/model`: the identity used by the circuit breaker and latency tracker. */
  key: string;
  provider: Provider;
  model: string;
  weight: number;
  timeoutMs: number;
  ttfbTimeoutMs: number;
  /** Longest silence in a streamed answer once its headers came; 0: none. */
  streamIdleTimeoutMs: number;
  /** The target's own output cap (the route's applies too; the lower wins). */
  maxOutputTokens: number | undefined;
  /** For the `cost` strategy. */
  capabilities: ModelCapabilities;
}

/** One tier of a `complexity` route. */
export interface Tier {
  name: string;
  /** Requests scoring at most this go here; Infinity on the last tier. */
  maxScore: number;
  targets: ResolvedTarget[];
}

export interface Route {
  name: string;
  strategy: Strategy;
  targets: ResolvedTarget[];
  contextFallback: ResolvedTarget[];
  retries: number;
  /** `complexity` routes: tiers, smallest first (`targets` is all of theirs, in that order). */
  tiers?: Tier[];
  maxOutputTokens?: number;
  trim?: TrimConfig;
  expectedOutputTokens?: number;
  /** True when a chat request on this route needs a per-request plan (see `request-plan.ts`). */
  planned: boolean;
  /**
   * What may answer on this route: its targets' `provider/model`, context fallbacks included.
   * Cached answers are kept under it, so a reload that points the name elsewhere does not
   * serve the old models' answers.
   */
  answeredBy: string;
}

function answeredBy(targets: readonly ResolvedTarget[], contextFallback: readonly ResolvedTarget[]): string {
  return [...targets, ...contextFallback].map((t) => t.key).join(' ');
}

export class ModelRouter {
  private routes = new Map<string, Route>();
  private direct = new Map<string, Route>();

  constructor(
    private cfg: Pick<Config, 'models' | 'routing'>,
    private providers: ReadonlyMap<string, Provider>,
  ) {
    for (const [name, route] of Object.entries(cfg.models)) this.routes.set(name, this.compile(name, route));
  }

  /**
   * Takes over `next`'s routes and providers (a config reload: `next` is compiled first, so
   * a bad config never leaves this router half-changed). Whoever holds this router sees the
   * new routes from the next request on; calls in flight keep the route they resolved.
   */
  replaceWith(next: ModelRouter): void {
    this.cfg = next.cfg;
    this.providers = next.providers;
    this.routes = next.routes;
    this.direct = new Map();
  }

  private compile(name: string, route: ModelRouteConfig): Route {
    const tiers = route.tiers?.map((t, i, all) => ({
      name: t.name,
      maxScore: i === all.length - 1 ? Infinity : (t.max_score ?? Infinity),
      targets: t.targets.map((x) => this.target(x)),
    }));
    const targets = tiers ? tiers.flatMap((t) => t.targets) : route.targets.map((t) => this.target(t));
    const contextFallback = (route.context_fallback ?? []).map((t) => this.target(t));
    return {
      name,
      strategy: route.strategy,
      targets,
      contextFallback,
      retries: route.retries ?? this.cfg.routing.retries,
      ...(tiers ? { tiers } : {}),
      ...(route.max_output_tokens !== undefined ? { maxOutputTokens: route.max_output_tokens } : {}),
      ...(route.trim ? { trim: route.trim } : {}),
      ...(route.expected_output_tokens !== undefined ? { expectedOutputTokens: route.expected_output_tokens } : {}),
      planned:
        route.strategy === 'cost' ||
        route.strategy === 'complexity' ||
        route.max_output_tokens !== undefined ||
        route.trim !== undefined ||
        targets.some((t) => t.maxOutputTokens !== undefined),
      answeredBy: answeredBy(targets, contextFallback),
    };
  }

  private target(t: TargetConfig): ResolvedTarget {
    const provider = this.providers.get(t.provider);
    if (!provider) throw new Error(`unknown provider '${t.provider}'`);
    return {
      key: `${t.provider}/${t.model}`,
      provider,
      model: t.model,
      weight: t.weight ?? 1,
      timeoutMs: t.timeout_ms ?? this.cfg.routing.timeout_ms,
      ttfbTimeoutMs: t.ttfb_timeout_ms ?? this.cfg.routing.ttfb_timeout_ms,
      streamIdleTimeoutMs: t.stream_idle_timeout_ms ?? this.cfg.routing.stream_idle_timeout_ms,
      maxOutputTokens: t.max_output_tokens,
      capabilities: capabilitiesOf(t.model, t),
    };
  }

  /** The route for a requested model name, or a 404 error naming what exists. */
  resolve(model: string): Route {
    const route = this.routes.get(model) ?? this.direct.get(model);
    if (route) return route;
    const slash = model.indexOf('/');
    if (slash > 0) {
      const provider = model.slice(0, slash);
      const upstreamModel = model.slice(slash + 1);
      if (this.providers.has(provider) && upstreamModel.length > 0) {
        const targets = [this.target({ provider, model: upstreamModel })];
        const r: Route = {
          name: model,
          strategy: 'fallback',
          targets,
          contextFallback: [],
          retries: this.cfg.routing.retries,
          planned: false,
          answeredBy: answeredBy(targets, []),
        };
        if (this.direct.size < 10_000) this.direct.set(model, r);
        return r;
      }
    }
    throw new LlmopsError(
      'model_not_found',
      `The model '${model}' does not exist. Use a configured model (${[...this.routes.keys()].join(', ') || 'none configured'}) or 'provider/model' with a configured provider (${[...this.providers.keys()].join(', ')}).`,
      { param: 'model' },
    );
  }

  publicModels(): Array<{ name: string; route: Route }> {
    return [...this.routes.entries()].map(([name, route]) => ({ name, route }));
  }
}
