/**
 * The human review queue's SQL, shared by the SQLite and PostgreSQL stores: calls offered
 * for review (flagged by a guard, or sampled), claimed by one reviewer at a time (a claim
 * older than `staleMs` may be taken over), and labelled once.
 */
import type { ReviewItem, ReviewLabel } from './types.js';

type Row = Record<string, unknown>;
type All = (q: { sql: string; args: unknown[] }) => Promise<Row[]>;
type Run = (q: { sql: string; args: unknown[] }) => Promise<void>;

export const REVIEW_COLUMNS = [
  'id',
  'trace_id',
  'call_id',
  'reason',
  'guards',
  'model',
  'created_at',
  'status',
  'claimed_by',
  'claimed_at',
  'label',
  'category',
  'note',
  'labeled_by',
  'labeled_at',
] as const satisfies ReadonlyArray<keyof ReviewItem>;

const SELECT = `SELECT ${REVIEW_COLUMNS.join(', ')} FROM review_items`;

function rowToItem(r: Row): ReviewItem {
  const s = (v: unknown): string | null => (v == null ? null : String(v));
  const n = (v: unknown): number | null => (v == null ? null : Number(v));
  return {
    id: String(r.id),
    trace_id: String(r.trace_id),
    call_id: String(r.call_id),
    reason: r.reason as ReviewItem['reason'],
    guards: r.guards == null ? null : (JSON.parse(String(r.guards)) as string[]),
    model: s(r.model),
    created_at: Number(r.created_at),
    status: r.status as ReviewItem['status'],
    claimed_by: s(r.claimed_by),
    claimed_at: n(r.claimed_at),
    label: s(r.label) as ReviewItem['label'],
    category: s(r.category),
    note: s(r.note),
    labeled_by: s(r.labeled_by),
    labeled_at: n(r.labeled_at),
  };
}

export async function addReviewItems(run: Run, items: readonly ReviewItem[]): Promise<void> {
  const sql = `INSERT INTO review_items (${REVIEW_COLUMNS.join(', ')}) VALUES (${REVIEW_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`;
  for (const it of items) await run({ sql, args: REVIEW_COLUMNS.map((c) => (c === 'guards' ? (it.guards ? JSON.stringify(it.guards) : null) : it[c])) });
}

export async function listReviewItems(all: All, q: { status?: ReviewItem['status'] | 'all'; limit: number; now?: number; staleMs?: number }): Promise<ReviewItem[]> {
  const status = q.status ?? 'open';
  if (status === 'all') return (await all({ sql: `${SELECT} ORDER BY created_at DESC, id LIMIT ?`, args: [q.limit] })).map(rowToItem);
  return (await all({ sql: `${SELECT} WHERE status = ? ORDER BY created_at, id LIMIT ?`, args: [status, q.limit] })).map(rowToItem);
}

export async function getReviewItem(all: All, id: string): Promise<ReviewItem | undefined> {
  const r = (await all({ sql: `${SELECT} WHERE id = ?`, args: [id] }))[0];
  return r ? rowToItem(r) : undefined;
}

/** Claims an open item (or one whose claim went stale); the item as it now is, or undefined when there is none. */
export async function claimReviewItem(run: Run, all: All, id: string, by: string, at: number, staleMs: number): Promise<ReviewItem | undefined> {
  await run({
    sql: `UPDATE review_items SET status = 'claimed', claimed_by = ?, claimed_at = ?
          WHERE id = ? AND (status = 'open' OR (status = 'claimed' AND (claimed_by = ? OR claimed_at < ?)))`,
    args: [by, at, id, by, at - staleMs],
  });
  return getReviewItem(all, id);
}

/** Labels an item not yet labelled and not claimed by someone else; the item as it now is. */
export async function labelReviewItem(run: Run, all: All, id: string, l: ReviewLabel): Promise<ReviewItem | undefined> {
  await run({
    sql: `UPDATE review_items SET status = 'labeled', label = ?, category = ?, note = ?, labeled_by = ?, labeled_at = ?
          WHERE id = ? AND status <> 'labeled' AND (claimed_by IS NULL OR claimed_by = ?)`,
    args: [l.label, l.category, l.note, l.by, l.at, id, l.by],
  });
  return getReviewItem(all, id);
}
