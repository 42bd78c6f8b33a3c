/**
 * The budgets report behind `GET /api/budgets` and `llmops budgets`: every budget with its
 * subjects, spend (reservations of calls in flight included), remaining, thresholds and
 * reset time, plus the latest soft-threshold alerts.
 */
import type { KeyLimits } from './schema.js';
import { LimitsService, type CompiledBudget } from './limits-service.js';
import { fromNano, type BudgetAlert } from './state.js';

export interface BudgetRow {
  budget: string;
  scope: string;
  subject: string;
  /** For key budgets: the key's name. */
  subject_name?: string;
  window: string;
  window_id: string;
  window_start: string;
  /** null for rolling windows (spend leaves them gradually). */
  resets_at: string | null;
  limit_usd: number;
  spent_usd: number;
  remaining_usd: number;
  used_ratio: number;
  soft_threshold: number;
  hard_threshold: number;
  status: 'ok' | 'soft_exceeded' | 'exhausted';
}

export interface BudgetReport {
  object: 'list';
  enabled: boolean;
  backend: 'memory' | 'redis' | null;
  timezone: string;
  data: BudgetRow[];
  alerts: BudgetAlert[];
}

export interface ReportFilter {
  budget?: string | undefined;
  scope?: string | undefined;
  subject?: string | undefined;
}

interface Pending {
  budget: CompiledBudget;
  subject: string;
  name?: string;
}

export async function budgetReport(
  service: LimitsService | undefined,
  keyBudgets: Array<{ id: string; name: string; limits: KeyLimits | null }>,
  filter: ReportFilter = {},
  now = Date.now(),
): Promise<BudgetReport> {
  if (!service) return { object: 'list', enabled: false, backend: null, timezone: 'UTC', data: [], alerts: [] };
  const rows: Pending[] = [];
  for (const b of service.budgetRules) {
    if (filter.budget && filter.budget !== b.name) continue;
    if (filter.scope && filter.scope !== b.scope) continue;
    if (b.scope === 'global') {
      rows.push({ budget: b, subject: '*' });
      continue;
    }
    const slot = b.window.at(now);
    const seen = await service.state.subjects(LimitsService.indexKey(b), slot.startsAt);
    const subjects = new Set(seen);
    // Explicitly matched users, teams and features are shown even before their first request.
    if (b.match && b.scope !== 'key') for (const m of b.match) subjects.add(m);
    for (const s of [...subjects].sort()) if (!b.match || b.match.has(s) || b.scope === 'key') rows.push({ budget: b, subject: s });
  }
  if (!filter.budget || filter.budget === 'key') {
    if (!filter.scope || filter.scope === 'key') {
      for (const k of keyBudgets) {
        const c = service.keyBudget(k.id, k.limits);
        if (c) rows.push({ budget: c, subject: k.id, name: k.name });
      }
    }
  }
  const picked = filter.subject ? rows.filter((r) => r.subject === filter.subject || r.name === filter.subject) : rows;
  const slots = picked.map((r) => r.budget.window.at(now));
  const spent = await service.state.spend(
    picked.map((r, i) => ({ key: LimitsService.counterKey(r.budget, slots[i]!, r.subject), bucketMs: slots[i]!.bucketMs, buckets: slots[i]!.buckets })),
    now,
  );
  const data = picked.map((r, i): BudgetRow => {
    const b = r.budget;
    const slot = slots[i]!;
    const spentUsd = fromNano(spent[i]!);
    const ratio = spentUsd / b.limitUsd;
    return {
      budget: b.name,
      scope: b.scope,
      subject: r.subject,
      ...(r.name ? { subject_name: r.name } : {}),
      window: b.window.describe(),
      window_id: slot.id,
      window_start: new Date(slot.startsAt).toISOString(),
      resets_at: slot.resetsAt === null ? null : new Date(slot.resetsAt).toISOString(),
      limit_usd: b.limitUsd,
      spent_usd: round(spentUsd),
      remaining_usd: round(Math.max(0, b.limitUsd * b.hard - spentUsd)),
      used_ratio: Math.round(ratio * 10_000) / 10_000,
      soft_threshold: b.soft,
      hard_threshold: b.hard,
      status: ratio >= b.hard ? 'exhausted' : ratio >= b.soft ? 'soft_exceeded' : 'ok',
    };
  });
  return { object: 'list', enabled: true, backend: service.state.kind, timezone: service.timezone, data, alerts: await service.state.alerts(20) };
}

function round(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}
