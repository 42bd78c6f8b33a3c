/**
 * Rate limits and budgets for one request: which limits apply (key, user, team, model),
 * which budgets (global, key, user, team, feature), the request's worst-case cost, one
 * atomic check-and-reserve against the state backend before the call, and one settlement
 * with the real cost and tokens after it (success, failure or aborted stream alike).
 *
 * @example
 * const ticket = await limits.admit(ctx);   // throws 429/402 with the reason, or reserves
 * // ... the call runs ...
 * limits.settle(ticket, ctx);               // from the record stage: reconcile, alert once
 */
import { requestedMaxTokens } from '../canonical.js';
import { LlmopsError } from '../errors.js';
import type { Principal } from '../keys/key-service.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { ModelRouter } from '../routing/router.js';
import { BudgetWindow, ZoneCalendar, type WindowSlot } from './budget-window.js';
import { setRateHeaders } from './headers.js';
import { chatInputTokens, embeddingsInputTokens } from './token-estimate.js';
import type { BudgetScope, BudgetsConfig, KeyLimits, LimitsConfig, RateLimitConfig } from './schema.js';
import { fromNano, toNano, type BudgetAlert, type BudgetCharge, type LimitsState, type RateCharge } from './state.js';

const MINUTE = 60_000;
/** The header a caller sends to approve a request over `per_request_max_usd`. */
export const APPROVE_COST_HEADER = 'x-llmops-approve-cost';

export interface CompiledBudget {
  name: string;
  scope: BudgetScope;
  match: Set<string> | null;
  limitUsd: number;
  soft: number;
  hard: number;
  window: BudgetWindow;
}

interface TicketBudget {
  budget: CompiledBudget;
  subject: string;
  slot: WindowSlot;
  bucket: number;
}

/** What `admit` reserved, for `settle` to reconcile. */
export interface LimitsTicket {
  /** Token limits charged (requests are not reconciled). */
  tokenRates: RateCharge[];
  budgets: TicketBudget[];
  amountNano: number;
}

export interface LimitsServiceOptions {
  limits: LimitsConfig | undefined;
  budgets: BudgetsConfig | undefined;
  state: LimitsState;
  prices: PriceTable;
  router: ModelRouter;
  log: Logger;
  clock?: () => number;
}

/** The key's team: its metadata `team` (documented), if a non-empty string. */
export function teamOf(p: Principal | undefined): string | null {
  const t = p?.metadata?.team;
  return typeof t === 'string' && t !== '' ? t : null;
}

function merge(...layers: Array<RateLimitConfig | undefined | null>): RateLimitConfig {
  const out: RateLimitConfig = {};
  for (const l of layers) {
    if (!l) continue;
    if (out.rpm === undefined && l.rpm !== undefined) out.rpm = l.rpm;
    if (out.tpm === undefined && l.tpm !== undefined) out.tpm = l.tpm;
  }
  return out;
}

const usd = (n: number): string => `$${n < 1 ? n.toFixed(4) : n.toFixed(2)}`;

export class LimitsService {
  private calendar!: ZoneCalendar;
  private rules: CompiledBudget[] = [];
  private keyBudgets = new Map<string, CompiledBudget>();
  private limits: LimitsConfig | undefined;
  private budgets: BudgetsConfig | undefined;
  private readonly clock: () => number;
  private readonly pending = new Set<Promise<void>>();
  private lastStateErrorLog = 0;

  constructor(private readonly opts: LimitsServiceOptions) {
    this.clock = opts.clock ?? Date.now;
    this.configure(opts.limits, opts.budgets);
  }

  /**
   * New limits and budgets (also a config reload): they apply from the next request on.
   * Counters and spend live in the state and carry over; a call admitted under the old
   * rules settles against them.
   */
  configure(limits: LimitsConfig | undefined, budgets: BudgetsConfig | undefined): void {
    const calendar = new ZoneCalendar(budgets?.timezone ?? 'UTC');
    this.rules = (budgets?.rules ?? []).map((r) => ({
      name: r.name,
      scope: r.scope,
      match: r.match ? new Set(r.match) : null,
      limitUsd: r.limit_usd,
      soft: r.soft_threshold ?? budgets!.soft_threshold,
      hard: r.hard_threshold ?? budgets!.hard_threshold,
      window: new BudgetWindow(r.window, calendar, r.period ?? 0),
    }));
    this.calendar = calendar;
    this.limits = limits;
    this.budgets = budgets;
    this.keyBudgets = new Map();
  }

  /** The budget rules from config, compiled. */
  get budgetRules(): readonly CompiledBudget[] {
    return this.rules;
  }

  get state(): LimitsState {
    return this.opts.state;
  }

  get timezone(): string {
    return this.calendar.timeZone;
  }

  /** A key's own budget as a compiled rule (cached per key and limits). */
  keyBudget(keyId: string, limits: KeyLimits | null | undefined): CompiledBudget | null {
    const kb = limits?.budget;
    if (!kb) return null;
    const id = `${keyId}|${kb.limit_usd}|${kb.window}|${kb.period ?? 0}`;
    let c = this.keyBudgets.get(id);
    if (!c) {
      if (this.keyBudgets.size > 10_000) this.keyBudgets.clear();
      c = {
        name: 'key',
        scope: 'key',
        match: null,
        limitUsd: kb.limit_usd,
        soft: this.budgets?.soft_threshold ?? 0.8,
        hard: this.budgets?.hard_threshold ?? 1,
        window: new BudgetWindow(kb.window, this.calendar, kb.period ?? 0),
      };
      this.keyBudgets.set(id, c);
    }
    return c;
  }

  /** The subject a budget of this scope applies to for the request, or null when it does not apply. */
  subjectFor(b: CompiledBudget, ctx: RequestContext): string | null {
    const p = ctx.principal;
    let s: string | null;
    switch (b.scope) {
      case 'global':
        return '*';
      case 'key':
        s = p ? (p.keyId ?? 'admin') : null;
        if (s && b.match && !b.match.has(s) && !(p && b.match.has(p.name))) return null;
        return s;
      case 'user':
        s = ctx.tags.user;
        break;
      case 'team':
        s = teamOf(p);
        break;
      case 'feature':
        s = ctx.tags.feature;
        break;
    }
    if (s === null || (b.match && !b.match.has(s))) return null;
    return s;
  }

  static counterKey(b: CompiledBudget, slot: WindowSlot, subject: string): string {
    return `b:${b.name}:${slot.id}:${subject}`;
  }

  static indexKey(b: CompiledBudget): string {
    return `bi:${b.name}`;
  }

  /**
   * Checks every limit and budget that applies and reserves the request's share, or throws
   * the error saying which one refused it. Returns what `settle` must reconcile, or null
   * when there is nothing to reconcile (no limit applied, or requests-per-minute only).
   */
  async admit(ctx: RequestContext): Promise<LimitsTicket | null> {
    const req = ctx.request;
    if (!req) return null;
    const p = ctx.principal;
    const cfg = this.limits;
    const model = ctx.requestedModel ?? req.body.model;
    const keyId = p ? (p.keyId ?? 'admin') : 'anonymous';
    // A model the key may not use is refused by the route stage (403): consume nothing for it.
    if (p && !p.allows(model)) return null;

    // Rate limits: key, user, team, model.
    const rateRules: Array<{ scope: string; subject: string; limit: RateLimitConfig }> = [];
    if (cfg || p?.limits) {
      const keyLimit = merge(p?.limits, p ? cfg?.keys[p.name] : undefined, cfg?.per_key);
      if (keyLimit.rpm || keyLimit.tpm) rateRules.push({ scope: 'key', subject: keyId, limit: keyLimit });
      if (cfg) {
        const user = ctx.tags.user;
        if (user !== null) {
          const l = merge(cfg.users[user], cfg.per_user);
          if (l.rpm || l.tpm) rateRules.push({ scope: 'user', subject: user, limit: l });
        }
        const team = teamOf(p);
        if (team !== null) {
          const l = merge(cfg.teams[team], cfg.per_team);
          if (l.rpm || l.tpm) rateRules.push({ scope: 'team', subject: team, limit: l });
        }
        const m = cfg.models[model];
        if (m && (m.rpm || m.tpm)) rateRules.push({ scope: 'model', subject: model, limit: m });
      }
    }

    // Budgets that apply, in config order; the key's own budget last.
    const now = this.clock();
    const budgets: TicketBudget[] = [];
    for (const b of this.rules) {
      const subject = this.subjectFor(b, ctx);
      if (subject !== null) budgets.push({ budget: b, subject, slot: b.window.at(now), bucket: 0 });
    }
    const own = p?.keyId ? this.keyBudget(p.keyId, p.limits) : null;
    if (own) budgets.push({ budget: own, subject: p!.keyId!, slot: own.window.at(now), bucket: 0 });

    const needTokens = budgets.length > 0 || rateRules.some((r) => r.limit.tpm);
    if (rateRules.length === 0 && budgets.length === 0 && this.budgets?.per_request_max_usd === undefined) return null;

    // Worst case: counted input tokens + the most output tokens the call may produce.
    let inputTokens = 0;
    let maxOutput = 0;
    let callerMax: number | undefined;
    if (needTokens || this.budgets?.per_request_max_usd !== undefined) {
      if (req.kind === 'chat') {
        inputTokens = chatInputTokens(req.body);
        callerMax = requestedMaxTokens(req.body);
      } else {
        inputTokens = embeddingsInputTokens(req.body);
      }
    }
    let amountUsd = 0;
    let dearest: string | undefined;
    if (budgets.length > 0 || this.budgets?.per_request_max_usd !== undefined) {
      // Any target may serve the call (a fallback, another weight, a larger-context target
      // after a context-length error): the worst case is the dearest of them.
      const route = this.opts.router.resolve(model);
      const callerCap = req.kind === 'chat' ? (callerMax ?? this.budgets?.default_max_output_tokens ?? 4096) : 0;
      for (const target of [...route.targets, ...route.contextFallback]) {
        const output = req.kind === 'chat' ? Math.min(callerCap, route.maxOutputTokens ?? Infinity, target.maxOutputTokens ?? Infinity) : 0;
        const cost =
          this.opts.prices.cost({ inputTokens, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true }, target.model, target.provider.name) ?? 0;
        if (dearest === undefined || cost > amountUsd) {
          amountUsd = cost;
          maxOutput = output;
          dearest = target.model;
        }
      }
      const max = this.budgets?.per_request_max_usd;
      if (max !== undefined && amountUsd > max && !approved(ctx.http.headers[APPROVE_COST_HEADER])) {
        throw new LlmopsError(
          'request_cost_too_high',
          `This request could cost up to ${usd(amountUsd)} (${inputTokens} input tokens + ${maxOutput} output tokens at ${dearest ?? model}'s price), over the per-request maximum of ${usd(max)}. Lower max_tokens, or send "${APPROVE_COST_HEADER}: true" to approve it.`,
          { param: 'max_tokens' },
        );
      }
    }
    if (rateRules.length === 0 && budgets.length === 0) return null;

    const tokenCost = inputTokens + (callerMax ?? 0);
    const rates: RateCharge[] = [];
    const rateMeta: Array<{ scope: string; subject: string; unit: 'requests' | 'tokens' }> = [];
    for (const r of rateRules) {
      if (r.limit.rpm) {
        // The limit is part of the key: GCRA state is relative to it, so a changed limit starts afresh.
        rates.push({ key: `rl:${r.scope}:${r.subject}:r${r.limit.rpm}`, limit: r.limit.rpm, periodMs: MINUTE, cost: 1 });
        rateMeta.push({ scope: r.scope, subject: r.subject, unit: 'requests' });
      }
      if (r.limit.tpm) {
        if (tokenCost > r.limit.tpm) {
          throw new LlmopsError(
            'rate_limit_exceeded',
            `Request too large for the ${r.scope} limit (${r.scope === 'key' ? (p?.name ?? r.subject) : r.subject}): it needs ${tokenCost} tokens, the limit is ${r.limit.tpm} tokens per minute. Send fewer input tokens or a lower max_tokens.`,
            { param: 'max_tokens' },
          );
        }
        rates.push({ key: `rl:${r.scope}:${r.subject}:t${r.limit.tpm}`, limit: r.limit.tpm, periodMs: MINUTE, cost: tokenCost });
        rateMeta.push({ scope: r.scope, subject: r.subject, unit: 'tokens' });
      }
    }
    const amountNano = toNano(amountUsd);
    const charges: BudgetCharge[] = budgets.map((t) => ({
      key: LimitsService.counterKey(t.budget, t.slot, t.subject),
      indexKey: LimitsService.indexKey(t.budget),
      subject: t.subject,
      hardNano: Math.floor(t.budget.limitUsd * t.budget.hard * 1e9),
      bucketMs: t.slot.bucketMs,
      buckets: t.slot.buckets,
      ttlMs: t.slot.ttlMs,
    }));

    let res;
    try {
      res = await this.opts.state.admit({ now, rates, budgets: charges, amountNano });
    } catch (err) {
      if (this.limits?.on_state_error === 'allow') {
        this.logStateError('limits: state backend failed; request let through unchecked (on_state_error: allow)', err);
        return null;
      }
      this.logStateError('limits: state backend failed; request refused (on_state_error: deny)', err);
      throw new LlmopsError('limits_unavailable', 'Rate limits and budgets cannot be checked right now (the state backend is unavailable). Retry shortly.', {
        cause: err,
        retryAfterMs: 1000,
      });
    }

    // Headers from the tightest limit of each unit.
    const headers: Record<string, string> = (ctx.responseHeaders ??= {});
    for (const unit of ['requests', 'tokens'] as const) {
      let best = -1;
      for (let i = 0; i < rates.length; i++) {
        if (rateMeta[i]!.unit !== unit) continue;
        if (best < 0 || res.rates[i]!.remaining / rates[i]!.limit < res.rates[best]!.remaining / rates[best]!.limit) best = i;
      }
      if (best >= 0) setRateHeaders(headers, unit, rates[best]!.limit, res.rates[best]!);
    }

    if (!res.ok) {
      const bi = res.budgets.findIndex((s) => !s.allowed);
      if (bi >= 0) throw this.budgetError(budgets[bi]!, fromNano(res.budgets[bi]!.spentNano), amountUsd, res.budgets[bi]!.retryAfterMs, now);
      const ri = res.rates.findIndex((s) => !s.allowed);
      const meta = rateMeta[ri]!;
      const who = meta.scope === 'key' ? `key "${p?.name ?? meta.subject}"` : `${meta.scope} "${meta.subject}"`;
      const r = res.rates[ri]!;
      throw new LlmopsError(
        'rate_limit_exceeded',
        `Rate limit reached for ${who} on ${meta.unit} per minute: limit ${rates[ri]!.limit}, remaining ${r.remaining}${meta.unit === 'tokens' ? `, this request needs ${rates[ri]!.cost}` : ''}. Please try again in ${Math.ceil(r.retryAfterMs / 100) / 10}s.`,
        { retryAfterMs: r.retryAfterMs },
      );
    }
    budgets.forEach((t, i) => (t.bucket = res.budgets[i]!.bucket));
    const tokenRates = rates.filter((_, i) => rateMeta[i]!.unit === 'tokens');
    // Requests-per-minute limits need no settling: nothing to hand to `record`.
    return tokenRates.length === 0 && budgets.length === 0 ? null : { tokenRates, budgets, amountNano };
  }

  private budgetError(t: TicketBudget, spentUsd: number, amountUsd: number, rollingRetryMs: number, now: number): LlmopsError {
    const b = t.budget;
    const hardUsd = b.limitUsd * b.hard;
    const label = b.scope === 'global' ? `'${b.name}'` : `'${b.name}' (${b.scope} ${t.subject})`;
    const retryAfterMs = t.slot.resetsAt !== null ? t.slot.resetsAt - now : rollingRetryMs;
    const when = t.slot.resetsAt !== null ? `it resets at ${new Date(t.slot.resetsAt).toISOString()}` : `spend leaves the ${b.window.describe()} window gradually (next in ~${Math.ceil(rollingRetryMs / 1000)}s)`;
    const stop = b.hard === 1 ? '' : ` (hard stop at ${Math.round(b.hard * 100)}% of ${usd(b.limitUsd)})`;
    const message =
      spentUsd >= hardUsd
        ? `Budget ${label} is exhausted: ${usd(spentUsd)} of ${usd(hardUsd)} spent${stop}, ${b.window.describe()}; ${when}.`
        : `Budget ${label} cannot cover this request: ${usd(spentUsd)} of ${usd(hardUsd)} is spent or reserved${stop}, ${b.window.describe()}, and this request may cost up to ${usd(amountUsd)}. Lower max_tokens, or wait: ${when}.`;
    return new LlmopsError('budget_exceeded', message, { retryAfterMs, ...(this.budgets?.status ? { status: this.budgets.status } : {}) });
  }

  /**
   * Reconciles a ticket with what the call really cost (0 when it failed before a model
   * answered). Never rejects; the response does not wait for it (`close()` does).
   */
  settle(ticket: LimitsTicket, ctx: RequestContext): Promise<void> {
    const tokens = ctx.usage ? ctx.usage.inputTokens + ctx.usage.outputTokens : 0;
    const costNano = Math.round((ctx.costUsd ?? 0) * 1e9);
    if (ticket.tokenRates.length === 0 && ticket.budgets.length === 0) return Promise.resolve();
    const now = this.clock();
    const settlement = {
      now,
      rates: ticket.tokenRates.map((r) => ({ key: r.key, limit: r.limit, periodMs: r.periodMs, delta: tokens - r.cost })),
      budgets: ticket.budgets.map((t) => ({
        key: LimitsService.counterKey(t.budget, t.slot, t.subject),
        bucketMs: t.slot.bucketMs,
        buckets: t.slot.buckets,
        bucket: t.bucket,
        deltaNano: costNano - ticket.amountNano,
        softNano: Math.floor(t.budget.limitUsd * t.budget.soft * 1e9),
        alertKey: `ba:${t.budget.name}:${t.slot.id}:${t.subject}`,
        ttlMs: t.slot.ttlMs,
      })),
    };
    const run = async (): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await this.opts.state.settle(settlement);
          for (let i = 0; i < ticket.budgets.length; i++) if (res.alerted[i]) await this.alert(ticket.budgets[i]!, fromNano(res.totalsNano[i]!), now);
          return;
        } catch (err) {
          if (attempt >= 3) {
            this.opts.log.error('limits: could not settle a request; its cost is missing from the budget counters', {
              trace_id: ctx.traceId,
              cost_usd: fromNano(costNano),
              reserved_usd: fromNano(ticket.amountNano),
              budgets: ticket.budgets.map((t) => `${t.budget.name}:${t.subject}`),
              err,
            });
            return;
          }
          await new Promise((r) => setTimeout(r, 200 * 5 ** attempt));
        }
      }
    };
    const p = run();
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }

  private async alert(t: TicketBudget, spentUsd: number, now: number): Promise<void> {
    const b = t.budget;
    const alert: BudgetAlert = {
      at: now,
      budget: b.name,
      scope: b.scope,
      subject: t.subject,
      window: t.slot.id === 'rolling' ? `rolling ${b.window.describe()}` : t.slot.id,
      spent_usd: spentUsd,
      limit_usd: b.limitUsd,
      threshold: b.soft,
      message: `Budget '${b.name}'${b.scope === 'global' ? '' : ` (${b.scope} ${t.subject})`} passed ${Math.round(b.soft * 100)}%: ${usd(spentUsd)} of ${usd(b.limitUsd)}, ${b.window.describe()}.`,
    };
    this.opts.log.warn('budget soft threshold crossed', { ...alert });
    await this.opts.state.pushAlert(alert);
  }

  /** A settlement that could not even start (a bug): said loudly, never thrown into the record stage. */
  settleFailed(ctx: RequestContext, err: unknown): void {
    this.opts.log.error('limits: could not settle a request; its cost is missing from the budget counters', { trace_id: ctx.traceId, cost_usd: ctx.costUsd, err });
  }

  private logStateError(msg: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastStateErrorLog < 5000) return;
    this.lastStateErrorLog = now;
    this.opts.log.error(msg, { err });
  }

  /** Waits for settlements in flight (shutdown), then closes the state. */
  async close(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.opts.state.close();
  }
}

function approved(v: string | string[] | undefined): boolean {
  const s = (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase();
  return s === 'true' || s === '1' || s === 'yes';
}
