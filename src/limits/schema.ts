/**
 * Config schemas for rate limits (`limits:`) and budgets (`budgets:`), and for the limits a
 * single virtual key can carry (config `keys[].limits`, admin API `limits`). Imported by
 * `config/schema.ts`, which places them at the top level of `llmops.yaml`.
 */
import { z } from 'zod';

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** A duration such as `30m`, `24h`, `7d` (or ms, as stored) → ms. */
export const DurationSchema = z
  .union([
    z.number().int(),
    z
      .string()
      .regex(DURATION, 'expected a duration such as 30m, 24h or 7d')
      .transform((s) => {
        const m = DURATION.exec(s)!;
        return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
      }),
  ])
  .refine((ms) => ms >= 60_000, 'a rolling window must be at least 1m');

/** Requests and tokens per minute. */
export const RateLimitSchema = z.strictObject({
  /** Requests per minute. */
  rpm: z.number().int().positive().optional(),
  /** Tokens (input + output) per minute. */
  tpm: z.number().int().positive().optional(),
});
export type RateLimitConfig = z.infer<typeof RateLimitSchema>;

const RateMap = z.record(z.string().min(1), RateLimitSchema).default({});

export const LimitsSchema = z.strictObject({
  /** Default for every key (a key's own `limits` win; then `keys.<name>`). */
  per_key: RateLimitSchema.optional(),
  /** Default for every user (the `x-llmops-user` header or the body's `user`). */
  per_user: RateLimitSchema.optional(),
  /** Default for every team (the key's metadata `team`). */
  per_team: RateLimitSchema.optional(),
  /** By key name. */
  keys: RateMap,
  /** By user id. */
  users: RateMap,
  /** By team name. */
  teams: RateMap,
  /** By requested model name: all callers together. */
  models: RateMap,
  /** When the state backend (Redis) fails: `deny` answers 503, `allow` lets requests through unchecked. */
  on_state_error: z.enum(['deny', 'allow']).default('deny'),
});
export type LimitsConfig = z.infer<typeof LimitsSchema>;

const Threshold = z.number().gt(0).max(2);

export const BudgetWindowSchema = z.enum(['day', 'month', 'rolling']);
export type BudgetWindowKind = z.infer<typeof BudgetWindowSchema>;

const windowFields = {
  limit_usd: z.number().positive(),
  /** `day` and `month` are calendar windows in `budgets.timezone`; `rolling` needs `period`. */
  window: BudgetWindowSchema,
  /** Length of a rolling window: 1h, 24h, 7d, ... */
  period: DurationSchema.optional(),
};

function rollingNeedsPeriod(b: { window: BudgetWindowKind; period?: number | undefined }, ctx: z.RefinementCtx): void {
  if (b.window === 'rolling' && b.period === undefined) ctx.addIssue({ code: 'custom', path: ['period'], message: 'a rolling window needs a period, e.g. 24h' });
  if (b.window !== 'rolling' && b.period !== undefined) ctx.addIssue({ code: 'custom', path: ['period'], message: 'period applies to rolling windows only' });
}

export const BudgetScopeSchema = z.enum(['global', 'key', 'user', 'team', 'feature']);
export type BudgetScope = z.infer<typeof BudgetScopeSchema>;

export const BudgetRuleSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'budget names are 1-64 letters, digits, _ . -'),
    /** `global`: one budget for everything; otherwise one budget per key, user, team or feature. */
    scope: BudgetScopeSchema,
    /** Only these subjects (key names or ids, user ids, team names, features); all when absent. */
    match: z.array(z.string().min(1)).optional(),
    ...windowFields,
    /** Overrides `budgets.soft_threshold` for this budget. */
    soft_threshold: Threshold.optional(),
    /** Overrides `budgets.hard_threshold` for this budget. */
    hard_threshold: Threshold.optional(),
  })
  .superRefine(rollingNeedsPeriod);
export type BudgetRuleConfig = z.infer<typeof BudgetRuleSchema>;

export const BudgetsSchema = z
  .strictObject({
    /** IANA time zone of calendar windows (`day` resets at local midnight, `month` on the 1st). */
    timezone: z
      .string()
      .default('UTC')
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'unknown IANA time zone'),
    /** Share of a budget at which an alert event is recorded (once per window). */
    soft_threshold: Threshold.default(0.8),
    /** Share of a budget at which requests are refused until the window resets. */
    hard_threshold: Threshold.default(1),
    /** A single request whose worst-case cost exceeds this is refused unless approved with `x-llmops-approve-cost: true`. */
    per_request_max_usd: z.number().positive().optional(),
    /** Output tokens reserved for a request that sets no max_tokens. */
    default_max_output_tokens: z.number().int().positive().default(4096),
    /** HTTP status of `budget_exceeded`: 402 (default; SDKs do not retry it) or 429. */
    status: z.union([z.literal(402), z.literal(429)]).default(402),
    rules: z.array(BudgetRuleSchema).default([]),
  })
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    b.rules.forEach((r, i) => {
      if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: `duplicate budget name '${r.name}'` });
      if (r.name === 'key') ctx.addIssue({ code: 'custom', path: ['rules', i, 'name'], message: "'key' is reserved for per-key budgets" });
      seen.add(r.name);
    });
  });
export type BudgetsConfig = z.infer<typeof BudgetsSchema>;

/** Limits carried by one virtual key (config `keys[].limits`, admin API `limits`). */
export const KeyLimitsSchema = z.strictObject({
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  /** The key's own budget (shown as budget `key` in `GET /api/budgets`). */
  budget: z.strictObject(windowFields).superRefine(rollingNeedsPeriod).optional(),
});
export type KeyLimits = z.infer<typeof KeyLimitsSchema>;
