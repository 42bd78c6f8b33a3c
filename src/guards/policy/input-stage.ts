/**
 * Stage, input guards (after limits, before the cache): runs the call's policy over the
 * request's texts, in order. `block` ends the call with 400 `guardrail_blocked` before
 * anything goes upstream; `mask` rewrites the request (the native passthrough body is
 * dropped, so the provider never sees the raw text); `flag` only records. On the way out,
 * values masked reversibly are restored in the answer — JSON, stream (in flight) and cache
 * hit alike — so the cache keeps placeholders and each caller gets their own values back.
 * Tool-call arguments are restored too (JSON-escaped). `/v1/embeddings` inputs go through the
 * guards that apply to them (see `guardEmbeddings`). Every call whose policy or sampling says
 * so is offered to the review queue.
 */
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, ToolCallDelta } from '../../canonical.js';
import type { StreamPart } from '../../providers/types.js';
import { LlmopsError } from '../../errors.js';
import { decodeEmbeddingTokens } from '../../token-counter.js';
import type { Stage } from '../../pipeline/compose.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { ReviewQueue } from '../review/review-queue.js';
import { blockedError, msSince, type GuardDecision } from './decision.js';
import type { GuardrailEngine } from './engine.js';
import { rewriteRequest, textSlots, type InputFinding, type InputGuard } from './input-guards.js';
import type { GuardrailState } from './state.js';
import { jsonEscape, MaskVault, StreamingUnmasker } from '../mask.js';
import { mapStream, stripNative, type StreamHandle } from './stream-rewrite.js';

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
        decide(state, g, f, t0);
        if (f.rewrites?.size) {
          body = rewriteRequest(body, slots, f.rewrites);
          slots = textSlots(body);
          rewritten = true;
        }
      }
      // The native body holds the raw text: without it the provider builds from the masked request.
      if (rewritten) ctx.request = { kind: 'chat', body };
    }
    if (policy.input.length > 0 && req?.kind === 'embeddings') {
      const body = guardEmbeddings(state, req.body);
      if (body !== req.body) ctx.request = { kind: 'embeddings', body };
    }
    await next();
    if (state.vault && state.vault.size > 0) restore(ctx, state.vault);
  };
}

/**
 * `/v1/embeddings`: the guards that apply (pii, secrets, deny, max_tokens; injection when its
 * `embeddings` option says so) check each input as a user message. Masks are `[TYPE]`: the
 * provider embeds the masked text and there is nothing to restore. Token-array inputs are
 * decoded with cl100k_base (OpenAI's embedding encoding) and checked as text; a masked one is
 * sent on as its masked text. Returns the body, rewritten when a guard masked.
 */
function guardEmbeddings(state: GuardrailState, body: EmbeddingsRequest): EmbeddingsRequest {
  if (!state.policy.input.some((g) => g.embeddings)) return body;
  const input = body.input;
  const texts = embeddingTexts(input);
  if (texts.length === 0) return body;
  let chat: ChatRequest = { model: body.model, messages: texts.map((t) => ({ role: 'user', content: t })) };
  let slots = textSlots(chat);
  let rewritten = false;
  for (const g of state.policy.input) {
    if (!g.embeddings) continue;
    const t0 = performance.now();
    const f = g.check(slots, chat);
    decide(state, g, f, t0);
    if (f.rewrites?.size) {
      chat = rewriteRequest(chat, slots, f.rewrites);
      slots = textSlots(chat);
      rewritten = true;
    }
  }
  if (!rewritten) return body;
  const out = slots.map((s) => s.text);
  return { ...body, input: typeof input === 'string' || (input.length > 0 && typeof input[0] === 'number') ? out[0]! : out };
}

/** An embeddings input as the texts it stands for: strings as they are, token arrays decoded. */
function embeddingTexts(input: EmbeddingsRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.length === 0) return [];
  try {
    if (typeof input[0] === 'number') return [decodeEmbeddingTokens(input as number[])];
    return (input as Array<string | number[]>).map((x) => (typeof x === 'string' ? x : decodeEmbeddingTokens(x)));
  } catch (err) {
    throw new LlmopsError(
      'invalid_request',
      `Invalid request: the guards check embeddings inputs as text, and this token-array input holds ids that cl100k_base (OpenAI's embedding encoding) does not have (${err instanceof Error ? err.message : String(err)}). Send the input as text.`,
      { param: 'input' },
    );
  }
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
    const s = restoreStream(r, vault);
    ctx.result = { ...r, first: s.first, rest: s.rest };
  } else if (r.kind === 'cached') {
    const e = r.hit.entry;
    ctx.result = { kind: 'cached', hit: { ...r.hit, entry: { ...e, body: vault.restore(e.body, jsonEscape), completion: vault.restore(e.completion, jsonEscape) } } };
  }
}

/**
 * Restores placeholders in a streamed answer, in flight: in every choice's content and in
 * its tool calls' argument deltas (values JSON-escaped there). A placeholder split across
 * deltas is held back until it is whole; what a choice still holds goes out with its finish
 * chunk (or in one last chunk when the stream ends without one).
 */
export function restoreStream(s: StreamHandle, vault: MaskVault): StreamHandle {
  const held = new Map<string, StreamingUnmasker>();
  let last: ChatCompletionChunk | undefined;
  const unmasker = (key: string, escape?: (v: string) => string): StreamingUnmasker => {
    let u = held.get(key);
    if (!u) held.set(key, (u = new StreamingUnmasker(vault.placeholders, escape)));
    return u;
  };
  /** Flushes what choice `index` holds: its content, and argument deltas by tool index. */
  const flushChoice = (index: number): { content: string; args: ToolCallDelta[] } => {
    let content = '';
    const args: ToolCallDelta[] = [];
    for (const [key, u] of held) {
      const [c, kind, t] = key.split(':');
      if (Number(c) !== index) continue;
      const rest = u.flush();
      held.delete(key);
      if (!rest) continue;
      if (kind === 'c') content += rest;
      else args.push({ index: Number(t), function: { arguments: rest } });
    }
    return { content, args };
  };
  type Choice = ChatCompletionChunk['choices'][number];
  const feed = (raw: StreamPart): StreamPart => {
    const p = stripNative(raw);
    if (!p.chunk || p.chunk.choices.length === 0) return p;
    last = p.chunk;
    const choices = p.chunk.choices.map((c): Choice => {
      const delta = { ...c.delta };
      if (typeof delta.content === 'string' && delta.content) delta.content = unmasker(`${c.index}:c`).push(delta.content);
      if (delta.tool_calls) {
        delta.tool_calls = delta.tool_calls.map((t) =>
          t.function?.arguments ? { ...t, function: { ...t.function, arguments: unmasker(`${c.index}:a:${t.index}`, jsonEscape).push(t.function.arguments) } } : t,
        );
      }
      if (c.finish_reason != null) {
        const rest = flushChoice(c.index);
        if (rest.content) delta.content = (delta.content ?? '') + rest.content;
        if (rest.args.length) delta.tool_calls = [...(delta.tool_calls ?? []), ...rest.args];
      }
      return { ...c, delta };
    });
    return { ...p, chunk: { ...p.chunk, choices } };
  };
  return mapStream(s, feed, () => {
    const indexes = new Set([...held.keys()].map((k) => Number(k.split(':')[0])));
    const choices: Choice[] = [];
    for (const index of indexes) {
      const r = flushChoice(index);
      if (r.content || r.args.length) choices.push({ index, delta: { ...(r.content ? { content: r.content } : {}), ...(r.args.length ? { tool_calls: r.args } : {}) }, finish_reason: null });
    }
    return choices.length && last ? { chunk: { ...last, choices } } : undefined;
  });
}

/** Records one input guard's finding in the call's trace; a block ends the call. */
function decide(state: GuardrailState, g: InputGuard, f: InputFinding, t0: number): void {
  const d: GuardDecision = { guard: g.name, stage: 'input', action: g.action, verdict: f.verdict, score: f.score, ms: msSince(t0) };
  if (f.masked) d.masked = f.masked;
  if (f.detail && f.verdict !== 'pass') d.detail = f.detail;
  state.decisions.push(d);
  if (f.verdict === 'block') throw blockedError(g.name, 'input', f.detail ?? 'the request is not allowed');
}
