/**
 * Stage, input guards (after limits, before the cache): runs the call's policy over the
 * request's texts, in order. `block` ends the call with 400 `guardrail_blocked` before
 * anything goes upstream; `mask` rewrites the request (the native passthrough body is
 * dropped, so the provider never sees the raw text); `flag` only records. On the way out,
 * values masked reversibly are restored in the answer — JSON, stream (in flight) and cache
 * hit alike — so the cache keeps placeholders and each caller gets their own values back.
 * Every call whose policy or sampling says so is offered to the review queue.
 */
import type { ChatCompletion } from '../../canonical.js';
import type { Stage } from '../../pipeline/compose.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { ReviewQueue } from '../review/review-queue.js';
import { blockedError, msSince, type GuardDecision } from './decision.js';
import type { GuardrailEngine } from './engine.js';
import { rewriteRequest, textSlots } from './input-guards.js';
import type { GuardrailState } from './state.js';
import { rewriteStream } from './stream-rewrite.js';
import { MaskVault } from './vault.js';

export function inputGuards(engine: GuardrailEngine, review?: ReviewQueue): Stage<RequestContext> {
  return async (ctx, next) => {
    if (review) (ctx.finalizers ??= []).push((c) => review.consider(c));
    const policy = engine.policyFor(ctx.principal, ctx.requestedModel);
    if (!policy) return next();
    const state: GuardrailState = { policy, decisions: [] };
    ctx.guardrails = state;
    const req = ctx.request;
    if (policy.input.length > 0 && req?.kind === 'chat') {
      let body = req.body;
      let slots = textSlots(body);
      let rewritten = false;
      const vault = (): MaskVault => (state.vault ??= new MaskVault());
      for (const g of policy.input) {
        const t0 = performance.now();
        const f = g.check(slots, body, vault);
        const d: GuardDecision = { guard: g.name, stage: 'input', action: g.action, verdict: f.verdict, score: f.score, ms: msSince(t0) };
        if (f.masked) d.masked = f.masked;
        if (f.detail && f.verdict !== 'pass') d.detail = f.detail;
        state.decisions.push(d);
        if (f.verdict === 'block') throw blockedError(g.name, 'input', f.detail ?? 'the request is not allowed');
        if (f.rewrites?.size) {
          body = rewriteRequest(body, slots, f.rewrites);
          slots = textSlots(body);
          rewritten = true;
        }
      }
      // The native body holds the raw text: without it the provider builds from the masked request.
      if (rewritten) ctx.request = { kind: 'chat', body };
    }
    await next();
    if (state.vault && state.vault.size > 0) restore(ctx, state.vault);
  };
}

/** Puts the caller's masked values back into the answer. */
function restore(ctx: RequestContext, vault: MaskVault): void {
  const r = ctx.result;
  if (!r) return;
  if (r.kind === 'chat') {
    const res = r.value.response;
    const restored: ChatCompletion = {
      ...res,
      choices: res.choices.map((c) => ({
        ...c,
        message: {
          ...c.message,
          content: c.message.content === null ? null : vault.restore(c.message.content),
          ...(c.message.tool_calls
            ? { tool_calls: c.message.tool_calls.map((t) => ({ ...t, function: { ...t.function, arguments: vault.restore(t.function.arguments, jsonEscape) } })) }
            : {}),
        },
      })),
    };
    const { native: _native, ...value } = r.value;
    ctx.result = { kind: 'chat', value: { ...value, response: restored } };
  } else if (r.kind === 'stream') {
    const longest = vault.maxPlaceholderLength();
    const s = rewriteStream(r, (held, final) => {
      if (final) return { emit: vault.restore(held), hold: '' };
      // Hold back an unfinished `<PLACEHOLDER_n` at the end until its `>` arrives.
      const open = held.lastIndexOf('<');
      if (open >= 0 && held.indexOf('>', open) < 0 && held.length - open < longest) {
        return { emit: vault.restore(held.slice(0, open)), hold: held.slice(open) };
      }
      return { emit: vault.restore(held), hold: '' };
    });
    ctx.result = { ...r, first: s.first, rest: s.rest };
  } else if (r.kind === 'cached') {
    const e = r.hit.entry;
    ctx.result = { kind: 'cached', hit: { ...r.hit, entry: { ...e, body: vault.restore(e.body, jsonEscape), completion: vault.restore(e.completion, jsonEscape) } } };
  }
}

/** A value as it must appear inside a JSON string. */
function jsonEscape(v: string): string {
  return JSON.stringify(v).slice(1, -1);
}
