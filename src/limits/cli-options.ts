/** `llmops keys create|limits` options for a key's own rate limits and budget. */
import { type Command, InvalidArgumentError } from 'commander';
import type { KeyLimits } from './schema.js';

export interface KeyLimitOptions {
  rpm?: number;
  tpm?: number;
  budget?: number;
  budgetWindow?: string;
  budgetPeriod?: string;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function positive(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function addKeyLimitOptions(cmd: Command): Command {
  return cmd
    .option('--rpm <n>', "the key's requests per minute", positiveInt)
    .option('--tpm <n>', "the key's tokens per minute", positiveInt)
    .option('--budget <usd>', "the key's budget in USD", positive)
    .option('--budget-window <window>', 'day | month | rolling (default day)')
    .option('--budget-period <duration>', 'rolling window length: 1h, 24h, 7d');
}

/** The limits the options describe; undefined when none was given. */
export function keyLimitsFrom(o: KeyLimitOptions): KeyLimits | undefined {
  const out: Record<string, unknown> = {};
  if (o.rpm !== undefined) out.rpm = o.rpm;
  if (o.tpm !== undefined) out.tpm = o.tpm;
  if (o.budget !== undefined) {
    const window = o.budgetWindow ?? (o.budgetPeriod ? 'rolling' : 'day');
    out.budget = { limit_usd: o.budget, window, ...(o.budgetPeriod ? { period: o.budgetPeriod } : {}) };
  } else if (o.budgetWindow || o.budgetPeriod) {
    throw new InvalidArgumentError('--budget-window and --budget-period need --budget');
  }
  return Object.keys(out).length > 0 ? (out as KeyLimits) : undefined;
}

/** A key's limits in a few words for `llmops keys list`: `rpm 30, tpm 100000, $20/month`. */
export function describeKeyLimits(limits: unknown): string {
  if (!limits || typeof limits !== 'object') return '-';
  const l = limits as KeyLimits;
  const parts: string[] = [];
  if (l.rpm) parts.push(`rpm ${l.rpm}`);
  if (l.tpm) parts.push(`tpm ${l.tpm}`);
  if (l.budget) parts.push(`$${l.budget.limit_usd}/${l.budget.window === 'rolling' ? `${Math.round((l.budget.period ?? 0) / 3_600_000)}h` : l.budget.window}`);
  return parts.join(', ') || '-';
}
