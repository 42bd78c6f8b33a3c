import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { planReload } from './reload-plan.js';

const load = (doc: Record<string, unknown>) => loadConfig({ document: { providers: { demo: { type: 'demo' } }, ...doc }, env: {} });

describe('planReload', () => {
  it('finds nothing to do for the same config, whatever its source', () => {
    const a = load({ models: { m: { targets: [{ provider: 'demo', model: 'x' }] } } });
    expect(planReload(a, { ...a, source: 'elsewhere.yaml' }, { limitsRunning: false })).toEqual({ apply: [], restartRequired: [] });
  });

  it('applies routes, keys, prices, capture and guardrails; server, store, cache, otel and the trace writer wait for a restart', () => {
    const a = load({});
    const b = load({
      models: { m: { targets: [{ provider: 'demo', model: 'x' }] } },
      keys: [{ name: 'k', key: 'sk-0123456789abcdef' }],
      pricing: { x: { input: 1, output: 2 } },
      traces: { capture: { default: 'metadata' }, retention_days: 3 },
      server: { port: 9999 },
      store: { url: 'sqlite:/tmp/other.db' },
      cache: {},
      otel: { ingest: { enabled: false } },
    });
    const plan = planReload(a, b, { limitsRunning: false });
    expect(plan.apply.sort()).toEqual(['keys', 'models', 'pricing', 'traces.capture']);
    expect(plan.restartRequired.sort()).toEqual(['cache', 'otel', 'server', 'store', 'traces']);
  });

  it('changes limits and budgets only on a gateway running them; a key gaining limits waits for a restart otherwise', () => {
    const a = load({});
    const withLimits = load({ limits: { per_key: { rpm: 5 } }, budgets: { rules: [{ name: 'all', scope: 'global', limit_usd: 10, window: 'day' }] } });
    expect(planReload(a, withLimits, { limitsRunning: false }).restartRequired.sort()).toEqual(['budgets', 'limits']);
    expect(planReload(a, withLimits, { limitsRunning: true }).apply.sort()).toEqual(['budgets', 'limits']);
    const keyLimits = load({ keys: [{ name: 'k', key: 'sk-0123456789abcdef', limits: { rpm: 2 } }] });
    expect(planReload(a, keyLimits, { limitsRunning: false })).toEqual({ apply: ['keys'], restartRequired: ['keys.limits'] });
    expect(planReload(a, keyLimits, { limitsRunning: true })).toEqual({ apply: ['keys'], restartRequired: [] });
  });
});
