/**
 * The hot-state contract behind rate limits and budgets: one atomic check-and-reserve per
 * request (`admit`), one reconcile after it (`settle`), and reads for the budgets API.
 * Backends: `memory/` (one instance, the default) and `redis/` (several instances, Lua
 * scripts, one round trip each). Both run the shared suite in `state.case.ts`.
 *
 * Money is in integer nano-USD (1e-9 USD) so counters add exactly, in Redis too.
 * Rate limits use GCRA (the generic cell rate algorithm): one stored number per limit,
 * the "theoretical arrival time", which gives a smooth sliding-window behaviour.
 */

/** One rate limit to check and consume from (e.g. 60 requests per minute for key k1). */
export interface RateCharge {
  key: string;
  limit: number;
  periodMs: number;
  /** Units this request takes: 1 for requests, its (estimated) tokens for tokens. */
  cost: number;
}

export interface RateStatus {
  allowed: boolean;
  /** Units left after this request (or now, when refused). */
  remaining: number;
  /** Until the limit is back to its full allowance. */
  resetMs: number;
  /** Refused only: how long until this request would fit. */
  retryAfterMs: number;
}

/** One budget to check and reserve from. */
export interface BudgetCharge {
  /** Counter key: includes the calendar window id, so a new window starts at zero. */
  key: string;
  /** Index of the budget's subjects (for listing them), and this subject (`*`, a global budget's, is not indexed). */
  indexKey: string;
  subject: string;
  /** Reserve only while spent + amount stays within this (nano-USD). */
  hardNano: number;
  /** 0 for calendar windows; rolling windows keep buckets of this length. */
  bucketMs: number;
  buckets: number;
  ttlMs: number;
}

export interface Admission {
  now: number;
  rates: RateCharge[];
  budgets: BudgetCharge[];
  /** Worst-case cost reserved from every budget (nano-USD). */
  amountNano: number;
}

export interface BudgetStatus {
  /** spent + amount fits under the hard limit. */
  allowed: boolean;
  /** Spent (and reserved by calls in flight) before this request, nano-USD. */
  spentNano: number;
  /** Rolling windows: when the oldest spend slides out; 0 for calendar windows. */
  retryAfterMs: number;
  /** Rolling windows: the bucket the reservation went to (needed to settle it). */
  bucket: number;
}

/** All or nothing: when any limit or budget refuses, nothing was consumed. */
export interface AdmitResult {
  ok: boolean;
  rates: RateStatus[];
  budgets: BudgetStatus[];
}

export interface RateAdjust {
  key: string;
  limit: number;
  periodMs: number;
  /** Actual minus charged units (negative gives back). */
  delta: number;
}

export interface BudgetAdjust {
  key: string;
  bucketMs: number;
  buckets: number;
  /** The bucket the reservation went to (rolling). */
  bucket: number;
  /** Actual cost minus the reservation (nano-USD; negative releases). */
  deltaNano: number;
  /** Soft threshold in nano-USD; 0 disables the alert check. */
  softNano: number;
  /** Set once per window when the soft threshold is crossed. */
  alertKey: string;
  ttlMs: number;
}

export interface Settlement {
  now: number;
  rates: RateAdjust[];
  budgets: BudgetAdjust[];
}

export interface SettleResult {
  /** Spent per budget after settling (nano-USD), with other calls' reservations. */
  totalsNano: number[];
  /** The soft threshold was crossed for the first time in this window. */
  alerted: boolean[];
}

export interface SpendProbe {
  key: string;
  bucketMs: number;
  buckets: number;
}

/** A soft-threshold crossing, kept for `GET /api/budgets`. */
export interface BudgetAlert {
  at: number;
  budget: string;
  scope: string;
  subject: string;
  window: string;
  spent_usd: number;
  limit_usd: number;
  threshold: number;
  message: string;
}

export interface LimitsState {
  readonly kind: 'memory' | 'redis';
  admit(a: Admission): Promise<AdmitResult>;
  settle(s: Settlement): Promise<SettleResult>;
  /** Current spend of budgets (nano-USD), reservations of calls in flight included. */
  spend(probes: SpendProbe[], now: number): Promise<number[]>;
  /** Subjects seen since `since` in a budget's index. */
  subjects(indexKey: string, since: number): Promise<string[]>;
  pushAlert(alert: BudgetAlert): Promise<void>;
  /** Newest first. */
  alerts(limit: number): Promise<BudgetAlert[]>;
  close(): Promise<void>;
}

export const NANO = 1e9;
export const toNano = (usd: number): number => Math.ceil(usd * NANO);
export const fromNano = (nano: number): number => nano / NANO;
