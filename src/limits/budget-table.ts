/** `llmops budgets` as a table: one row per budget and subject, then the latest alerts. */
import { renderTable } from '../table.js';
import type { BudgetReport } from './budget-report.js';

export type { BudgetReport } from './budget-report.js';

const money = (n: number): string => `$${n < 1 ? n.toFixed(6) : n.toFixed(2)}`;

export function renderBudgets(r: BudgetReport): string {
  let out = renderTable(
    ['BUDGET', 'SCOPE', 'SUBJECT', 'WINDOW', 'SPENT', 'LIMIT', 'REMAINING', 'USED', 'STATUS', 'RESETS'],
    r.data.map((d) => [
      d.budget,
      d.scope,
      d.subject_name ? `${d.subject} (${d.subject_name})` : d.subject,
      d.window,
      money(d.spent_usd),
      money(d.limit_usd),
      money(d.remaining_usd),
      `${(d.used_ratio * 100).toFixed(1)}%`,
      d.status,
      d.resets_at ?? 'rolling',
    ]),
  );
  out += `backend: ${r.backend}, timezone: ${r.timezone}\n`;
  if (r.alerts.length > 0) {
    out += '\nrecent alerts:\n';
    for (const a of r.alerts) out += `  ${new Date(a.at).toISOString()}  ${a.message}\n`;
  }
  return out;
}
