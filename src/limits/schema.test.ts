import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config/load.js';

function problems(doc: Record<string, unknown>): string[] {
  try {
    loadConfig({ document: { providers: { demo: {} }, ...doc }, env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('limits and budgets config', () => {
  it('names the bad key', () => {
    expect(problems({ limits: { per_key: { rpm: 0 } } })[0]).toMatch(/^limits\.per_key\.rpm: /);
    expect(problems({ limits: { per_kye: {} } })).toEqual(["limits: unknown key 'per_kye'"]);
    expect(problems({ budgets: { rules: [{ name: 'r', scope: 'user', limit_usd: 1, window: 'rolling' }] } })).toEqual([
      'budgets.rules.0.period: a rolling window needs a period, e.g. 24h',
    ]);
    expect(problems({ budgets: { rules: [{ name: 'r', scope: 'user', limit_usd: 1, window: 'day', period: '1h' }] } })).toEqual([
      'budgets.rules.0.period: period applies to rolling windows only',
    ]);
    expect(problems({ budgets: { timezone: 'Mars/Olympus' } })).toEqual(['budgets.timezone: unknown IANA time zone']);
    expect(problems({ budgets: { rules: [{ name: 'a', scope: 'global', limit_usd: 1, window: 'day' }, { name: 'a', scope: 'global', limit_usd: 2, window: 'month' }] } })).toEqual([
      "budgets.rules.1.name: duplicate budget name 'a'",
    ]);
    expect(problems({ keys: [{ name: 'k', key: 'sk-0123456789abcdef', limits: { budget: { limit_usd: 1, window: 'week' } } }] })[0]).toMatch(/^keys\.0\.limits\.budget\.window: /);
  });

  it('reads durations and defaults', () => {
    const cfg = loadConfig({ document: { providers: { demo: {} }, budgets: { rules: [{ name: 'r', scope: 'team', limit_usd: 3, window: 'rolling', period: '36h' }] } }, env: {} });
    expect(cfg.budgets).toMatchObject({ timezone: 'UTC', soft_threshold: 0.8, hard_threshold: 1, status: 402, default_max_output_tokens: 4096 });
    expect(cfg.budgets?.rules[0]?.period).toBe(36 * 3_600_000);
    expect(cfg.limits).toBeUndefined();
  });
});
