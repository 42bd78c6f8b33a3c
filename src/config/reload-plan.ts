/**
 * What a config reload changes: the sections that differ between the running config and
 * the new one, split into those a running gateway takes over (routes, providers, keys,
 * prices, capture, guardrails, limits) and those that need a restart (listening address,
 * store, Redis, cache, OpenTelemetry, metrics, the trace writer's settings).
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './load.js';

/** Top-level sections applied by a reload; `traces.capture` is the one reloadable part of `traces`. */
export const RELOADABLE_SECTIONS = ['environment', 'providers', 'providers_from_env', 'models', 'routing', 'keys', 'pricing', 'traces.capture', 'guardrails', 'limits', 'budgets'] as const;

/** Reload outcomes since start, for `/metrics`. */
export interface ReloadStats {
  succeeded: number;
  failed: number;
  /** Whether the last reload (or the start) succeeded. */
  lastSuccessful: boolean;
  /** When the running config was loaded (start, or the last successful reload), ms since the epoch. */
  lastSuccessAt: number;
}

export interface ReloadPlan {
  /** Changed sections the running gateway takes over. */
  apply: string[];
  /** Changed sections that keep their running values until a restart. */
  restartRequired: string[];
}

/** Each section's value, `traces` split into `traces.capture` and the rest. */
function sections(cfg: Config): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, value] of Object.entries(cfg)) {
    if (name === 'source') continue;
    if (name === 'traces') {
      const { capture, ...rest } = cfg.traces;
      out.set('traces.capture', capture);
      out.set('traces', rest);
    } else {
      out.set(name, value);
    }
  }
  return out;
}

/**
 * The plan for going from `current` to `next`. `limitsRunning` says whether the gateway
 * started with rate limits and budgets on: they can be changed then, but switching them on
 * (a first `limits:`/`budgets:` section, or the first key from config with limits) needs a
 * restart, because the pipeline's limits stage and its state are set up at start.
 */
export function planReload(current: Config, next: Config, opts: { limitsRunning: boolean }): ReloadPlan {
  const before = sections(current);
  const after = sections(next);
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => !isDeepStrictEqual(before.get(k), after.get(k)));
  const reloadable = new Set<string>(RELOADABLE_SECTIONS);
  const apply: string[] = [];
  const restartRequired: string[] = [];
  const limitsWanted = next.limits !== undefined || next.budgets !== undefined || next.keys.some((k) => k.limits);
  for (const section of changed) {
    if (!reloadable.has(section)) restartRequired.push(section);
    else if ((section === 'limits' || section === 'budgets') && !opts.limitsRunning) restartRequired.push(section);
    else apply.push(section);
  }
  // Keys from config gaining limits on a gateway without limits: the keys apply, their limits wait.
  if (!opts.limitsRunning && limitsWanted && !restartRequired.includes('limits') && !restartRequired.includes('budgets')) {
    restartRequired.push('keys.limits');
  }
  return { apply, restartRequired };
}
