/**
 * The per-request side of routing, for routes that need one (`route.planned`): context
 * trimming, the `complexity` tier pick, the `cost` order with its capability filter, and
 * output caps per target. The result is a plain ordered route the executor runs as
 * `fallback`, and a decision the trace keeps (`attributes.routing`).
 */
import type { ChatRequest } from '../canonical.js';
import type { Strategy } from '../config/schema.js';
import { LlmopsError } from '../errors.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { CallOptions } from '../providers/types.js';
import { countChatInputTokens } from '../token-counter.js';
import { requestNeeds, unmetNeed } from './capabilities.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { scoreComplexity, type ComplexityFeatures } from './complexity.js';
import { trimContext } from './context-trim.js';
import { capOutput, type OutputCap } from './output-cap.js';
import type { ResolvedTarget, Route, Tier } from './router.js';

export interface PlanDeps {
  prices: PriceTable;
  breaker: CircuitBreaker;
}

/** Output tokens a `cost` estimate assumes when the caller sets no max_tokens. */
export const DEFAULT_EXPECTED_OUTPUT_TOKENS = 500;

/** What routing decided for one request, as recorded in the trace. */
export interface RoutingDecision {
  strategy: Strategy;
  complexity?: {
    score: number;
    tier: string;
    features: ComplexityFeatures;
    /** Targets left out because they cannot serve this request (tools, vision, context length). */
    excluded?: Array<{ target: string; reason: string }>;
  };
  cost?: {
    input_tokens: number;
    /** Capable targets in the order tried: healthy ones by estimated cost, then those with an open circuit. */
    order: Array<{ target: string; estimated_usd: number | null; healthy: boolean }>;
    excluded: Array<{ target: string; reason: string }>;
  };
  trim?: { dropped_messages: number; dropped_tokens: number; input_tokens_before: number; input_tokens_after: number };
  /** The cap applied for the last target tried (the one that answered, on success). */
  output_cap?: OutputCap & { target: string };
}

type Native = CallOptions['native'];

export interface RequestPlan {
  /** The route with this request's targets, in order; run it with the `fallback` order. */
  route: Route;
  decision: RoutingDecision;
  /** Set when no target can serve the request; the decision still says why. */
  error?: LlmopsError;
  /** The body (and lossless passthrough body, if still valid) to send to `target`. */
  forTarget(target: ResolvedTarget, native: Native): { body: ChatRequest; native: Native };
}

/**
 * Plans one chat request on a planned route.
 *
 * @example
 * const plan = planChat(route, req.body, { prices, breaker });
 * if (plan.error) throw plan.error;
 * await executeRoute(plan.route, …, (t, o) => { const { body, native } = plan.forTarget(t, req.native); … });
 */
export function planChat(route: Route, req: ChatRequest, deps: PlanDeps): RequestPlan {
  const decision: RoutingDecision = { strategy: route.strategy };
  let body = req;
  let inputTokens: number | undefined;

  if (route.trim) {
    const t = trimContext(req, route.trim);
    if (t) {
      body = { ...req, messages: t.messages };
      inputTokens = t.inputTokensAfter;
      decision.trim = {
        dropped_messages: t.droppedMessages,
        dropped_tokens: t.droppedTokens,
        input_tokens_before: t.inputTokensBefore,
        input_tokens_after: t.inputTokensAfter,
      };
    }
  }

  let targets = route.targets;
  let error: LlmopsError | undefined;
  if (route.strategy === 'complexity' && route.tiers) {
    // Scored on the whole conversation as the caller sent it: its depth is a signal too.
    const { score, features } = scoreComplexity(req);
    const i = Math.max(0, route.tiers.findIndex((t) => score <= t.maxScore));
    decision.complexity = { score, tier: route.tiers[i]!.name, features };
    // The tier's targets, then the larger tiers' as fallbacks (escalate, never downgrade),
    // less those that cannot serve the request at all (recorded with the reason). Only when
    // none of them can does a smaller tier serve it, largest first (say, images that only a
    // small model reads): an outage of the larger tiers still never downgrades a request.
    inputTokens ??= countChatInputTokens(body);
    const excluded: Array<{ target: string; reason: string }> = [];
    const tiersFrom = (tiers: readonly Tier[]): ResolvedTarget[] => tiers.flatMap((tier) => tier.targets);
    targets = capableTargets(route, tiersFrom(route.tiers.slice(i)), body, inputTokens, excluded);
    if (targets.length === 0) targets = capableTargets(route, tiersFrom(route.tiers.slice(0, i).reverse()), body, inputTokens, excluded);
    if (excluded.length > 0) decision.complexity.excluded = excluded;
    if (targets.length === 0) error = noCapableTarget(route, excluded);
  } else if (route.strategy === 'cost') {
    inputTokens ??= countChatInputTokens(body);
    const ordered = orderByCost(route, body, inputTokens, deps);
    targets = ordered.targets;
    decision.cost = ordered.decision;
    if (targets.length === 0) error = noCapableTarget(route, ordered.decision.excluded);
  }

  const trimmed = body !== req;
  return {
    route: { ...route, strategy: 'fallback', targets },
    decision,
    ...(error ? { error } : {}),
    forTarget(target, native) {
      const cap = minCap(route.maxOutputTokens, target.maxOutputTokens);
      let out = body;
      if (cap !== undefined) {
        const c = capOutput(body, cap, target.provider.type);
        out = c.body;
        decision.output_cap = { ...c.cap, target: target.key };
      }
      if (!native || (!trimmed && out === body)) return { body: out, native: trimmed ? undefined : native };
      // Capped but not trimmed: an Anthropic passthrough body keeps working with the new max_tokens.
      if (!trimmed && native.format === 'anthropic') return { body: out, native: { ...native, body: { ...native.body, max_tokens: decision.output_cap!.applied } } };
      return { body: out, native: undefined };
    },
  };
}

function minCap(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}

/**
 * `targets` (in order) less those that cannot serve the request: too small a context window,
 * no tools or no image input when it needs them. Each one left out goes to `excluded` with
 * the reason.
 */
function capableTargets(
  route: Route,
  targets: readonly ResolvedTarget[],
  body: ChatRequest,
  inputTokens: number,
  excluded: Array<{ target: string; reason: string }>,
): ResolvedTarget[] {
  const needs = requestNeeds(body, inputTokens);
  const requested = body.max_completion_tokens ?? body.max_tokens ?? null;
  return targets.filter((t) => {
    const why = unmetNeed(t.capabilities, { ...needs, reservedOutputTokens: reservedOutput(route, t, requested) });
    if (why) excluded.push({ target: t.key, reason: why });
    return !why;
  });
}

/** The output tokens a target would be asked for: the caller's max_tokens under the route's and target's caps (0 when none). */
function reservedOutput(route: Route, t: ResolvedTarget, requested: number | null): number {
  const cap = minCap(route.maxOutputTokens, t.maxOutputTokens);
  return requested === null ? 0 : cap === undefined ? requested : Math.min(requested, cap);
}

function noCapableTarget(route: Route, excluded: ReadonlyArray<{ target: string; reason: string }>): LlmopsError {
  return new LlmopsError('no_capable_target', `No target of '${route.name}' can serve this request: ${excluded.map((e) => `${e.target} (${e.reason})`).join('; ')}.`, {
    param: 'messages',
  });
}

/** Capable targets by estimated cost, healthy ones first; incapable ones excluded with a reason. */
function orderByCost(route: Route, body: ChatRequest, inputTokens: number, deps: PlanDeps): { targets: ResolvedTarget[]; decision: NonNullable<RoutingDecision['cost']> } {
  const requested = body.max_completion_tokens ?? body.max_tokens ?? null;
  const excluded: Array<{ target: string; reason: string }> = [];
  const rows = capableTargets(route, route.targets, body, inputTokens, excluded).map((t, i) => {
    const cap = minCap(route.maxOutputTokens, t.maxOutputTokens);
    const expected = requested === null ? Math.min(route.expectedOutputTokens ?? DEFAULT_EXPECTED_OUTPUT_TOKENS, cap ?? Infinity) : reservedOutput(route, t, requested);
    const usd = deps.prices.cost(
      { inputTokens, outputTokens: expected, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true },
      t.model,
      t.provider.name,
    );
    return { t, i, usd, healthy: deps.breaker.state(t.key) !== 'open' };
  });
  // Unpriced targets go after priced ones: an unknown cost is not a low one.
  rows.sort((a, b) => Number(b.healthy) - Number(a.healthy) || (a.usd ?? Infinity) - (b.usd ?? Infinity) || a.i - b.i);
  return {
    targets: rows.map((r) => r.t),
    decision: {
      input_tokens: inputTokens,
      order: rows.map((r) => ({ target: r.t.key, estimated_usd: r.usd === null ? null : Math.round(r.usd * 1e9) / 1e9, healthy: r.healthy })),
      excluded,
    },
  };
}

/**
 * The decision as flat trace attributes (`llmops.routing.*`, like the cache's
 * `llmops.cache.*`): scalars for the facts one filters on, structures for the details.
 */
export function routingAttributes(d: RoutingDecision): Record<string, unknown> {
  const a: Record<string, unknown> = { 'llmops.routing.strategy': d.strategy };
  if (d.complexity) {
    a['llmops.routing.tier'] = d.complexity.tier;
    a['llmops.routing.complexity_score'] = d.complexity.score;
    a['llmops.routing.complexity_features'] = d.complexity.features;
  }
  if (d.complexity?.excluded) a['llmops.routing.excluded'] = d.complexity.excluded;
  if (d.cost) {
    a['llmops.routing.input_tokens'] = d.cost.input_tokens;
    a['llmops.routing.cost_order'] = d.cost.order;
    if (d.cost.excluded.length) a['llmops.routing.excluded'] = d.cost.excluded;
  }
  if (d.trim) {
    a['llmops.routing.trim.dropped_messages'] = d.trim.dropped_messages;
    a['llmops.routing.trim.dropped_tokens'] = d.trim.dropped_tokens;
    a['llmops.routing.trim.input_tokens_before'] = d.trim.input_tokens_before;
    a['llmops.routing.trim.input_tokens_after'] = d.trim.input_tokens_after;
  }
  if (d.output_cap) {
    a['llmops.routing.max_tokens_requested'] = d.output_cap.requested;
    a['llmops.routing.max_tokens_applied'] = d.output_cap.applied;
  }
  return a;
}
