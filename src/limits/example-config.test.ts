// The commented rate limits and budgets example in llmops.example.yaml must stay valid config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { PACKAGE_ROOT } from '../package-root.js';

it('the limits and budgets example in llmops.example.yaml is valid once uncommented', () => {
  const text = readFileSync(join(PACKAGE_ROOT, 'llmops.example.yaml'), 'utf8');
  const block = /# --- rate limits and budgets[^\n]*\n([\s\S]*?)# --- end of rate limits and budgets ---/.exec(text)![1]!;
  const yaml = block
    .split('\n')
    // YAML lines are the section names and indented lines; the rest is prose.
    .filter((l) => /^# (limits:|budgets:| {2})/.test(l))
    .map((l) => l.slice(2))
    .join('\n');
  const doc = parse(yaml) as Record<string, unknown>;
  expect(Object.keys(doc)).toEqual(['limits', 'budgets']);
  const cfg = loadConfig({ document: { providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } }, ...doc }, env: {} });
  expect(cfg.limits?.per_user).toEqual({ rpm: 60 });
  expect(cfg.budgets?.rules.map((r) => r.name)).toEqual(['org-monthly', 'per-user-daily', 'search-team', 'summaries']);
  expect(cfg.budgets?.rules[2]?.period).toBe(7 * 86_400_000);
});
