/**
 * Model resolution: a public model name (from `models:`) becomes a route with a strategy
 * and targets; a `provider/model` name routes straight to that provider. Routes are
 * compiled once at start, not per request.
 */
import type { Config } from '../config/load.js';
import type { Strategy, TargetConfig } from '../config/schema.js';
import { LlmopsError } from '../errors.js';
import type { Provider } from '../providers/types.js';

export interface ResolvedTarget {
  /** `provider/model`: the identity used by the circuit breaker and latency tracker. */
  key: string;
  provider: Provider;
  model: string;
  weight: number;
  timeoutMs: number;
  ttfbTimeoutMs: number;
}

export interface Route {
  name: string;
  strategy: Strategy;
  targets: ResolvedTarget[];
  contextFallback: ResolvedTarget[];
  retries: number;
}

export class ModelRouter {
  private readonly routes = new Map<string, Route>();
  private readonly direct = new Map<string, Route>();

  constructor(
    private readonly cfg: Pick<Config, 'models' | 'routing'>,
    private readonly providers: ReadonlyMap<string, Provider>,
  ) {
    for (const [name, route] of Object.entries(cfg.models)) {
      this.routes.set(name, {
        name,
        strategy: route.strategy,
        targets: route.targets.map((t) => this.target(t)),
        contextFallback: (route.context_fallback ?? []).map((t) => this.target(t)),
        retries: route.retries ?? cfg.routing.retries,
      });
    }
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
        const r: Route = {
          name: model,
          strategy: 'fallback',
          targets: [this.target({ provider, model: upstreamModel })],
          contextFallback: [],
          retries: this.cfg.routing.retries,
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
