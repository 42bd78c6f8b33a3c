/**
 * Prices per model, from `data/prices.json` with `pricing:` overrides from config, and the
 * cost of a call from its usage. A model with no known price costs `null` (unknown), never 0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Usage } from '../canonical.js';
import type { PriceConfig } from '../config/schema.js';
import type { CostDetails } from '../store/types.js';
import { PACKAGE_ROOT } from '../package-root.js';

export type Price = PriceConfig;

const PRICES_FILE = join(PACKAGE_ROOT, 'data', 'prices.json');

export function loadBuiltinPrices(): Record<string, Price> {
  const doc = JSON.parse(readFileSync(PRICES_FILE, 'utf8')) as { models: Record<string, Price> };
  return doc.models;
}

/** Dated snapshots and aliases that share their family's price: gpt-4o-2024-08-06, claude-3-5-haiku-20241022, x-latest. */
export const SNAPSHOT_SUFFIX = /(-\d{4}-\d{2}-\d{2}|-\d{8}|-latest|-preview(-\d{2}-\d{4})?|-\d{3})$/;

export class PriceTable {
  private prices = new Map<string, Price>();
  private resolved = new Map<string, Price | null>();

  constructor(builtin: Record<string, Price>, overrides: Record<string, Price> = {}) {
    for (const [model, price] of Object.entries(builtin)) if (!model.startsWith('_')) this.prices.set(model, price);
    for (const [model, price] of Object.entries(overrides)) this.prices.set(model, price);
  }

  /** Takes over `next`'s prices (a config reload). */
  replaceWith(next: PriceTable): void {
    this.prices = next.prices;
    this.resolved = new Map();
  }

  /** The price of `model` (as sent upstream), optionally qualified by provider name (`provider/model` overrides win). */
  lookup(model: string, provider?: string): Price | null {
    const key = provider ? `${provider}/${model}` : model;
    const hit = this.resolved.get(key);
    if (hit !== undefined) return hit;
    let price: Price | null = null;
    if (provider) price = this.prices.get(key) ?? null;
    let name = model.includes('/') && !this.prices.has(model) ? model.slice(model.lastIndexOf('/') + 1) : model;
    while (price === null) {
      price = this.prices.get(name) ?? null;
      const shorter = name.replace(SNAPSHOT_SUFFIX, '');
      if (shorter === name) break;
      name = shorter;
    }
    // Model names can come from clients (provider/model, OTLP): keep the memo bounded.
    if (this.resolved.size >= 10_000) this.resolved.clear();
    this.resolved.set(key, price);
    return price;
  }

  /** USD for a call's usage; `null` when the model has no price. */
  cost(usage: Usage, model: string, provider?: string): number | null {
    return this.costDetails(usage, model, provider)?.total ?? null;
  }

  /**
   * USD by part: uncached input, cached reads, cache writes and output (reasoning is part
   * of output). Each token is charged once; `null` when the model has no price.
   */
  costDetails(usage: Usage, model: string, provider?: string): CostDetails | null {
    const base = this.lookup(model, provider);
    if (!base) return null;
    // The highest tier whose threshold the input exceeds applies to the whole call.
    let p: Omit<Price, 'tiers'> = base;
    let threshold = -1;
    for (const tier of base.tiers ?? []) {
      if (usage.inputTokens > tier.above_input_tokens && tier.above_input_tokens > threshold) {
        p = tier;
        threshold = tier.above_input_tokens;
      }
    }
    const cached = Math.min(usage.cachedInputTokens, usage.inputTokens);
    const written = Math.min(usage.cacheWriteTokens, usage.inputTokens - cached);
    const plain = usage.inputTokens - cached - written;
    const input = (plain * p.input) / 1e6;
    const cachedUsd = (cached * (p.cached_input ?? p.input)) / 1e6;
    const writeUsd = (written * (p.cache_write ?? p.input)) / 1e6;
    const output = (usage.outputTokens * p.output) / 1e6;
    return { input, cached_input: cachedUsd, cache_write: writeUsd, output, total: input + cachedUsd + writeUsd + output };
  }

  models(): string[] {
    return [...this.prices.keys()];
  }
}
