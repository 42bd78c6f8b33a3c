/**
 * Stage, output guards (right after route): judges the answer under the call's policy.
 * A JSON answer, or a stream under `stream: buffer`, is held whole: guards run in order;
 * `mask` rewrites it, `flag` records, `block` fails the call with `guardrail_blocked`,
 * `retry` re-asks the model once with the violation appended as a user message, and
 * `fallback` asks the route's next target; if the second answer fails too, the call is
 * blocked. Under `stream: incremental` span guards (pii, secrets, toxicity) scan a
 * look-behind window as the text flows and mask in flight (or end the stream with the
 * error); whole-answer guards (json, grounding, toxicity's score) judge it at the end.
 */
import { contentText, type ChatRequest, type Usage } from '../../canonical.js';
import type { Stage } from '../../pipeline/compose.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { ChatResult, StreamPart } from '../../providers/types.js';
import { executeRoute, type Attempted, type ExecutorDeps } from '../../routing/executor.js';
import type { Route } from '../../routing/router.js';
import type { EntitySpan } from '../types.js';
import { blockedError, countTypes, msSince, type GuardDecision } from './decision.js';
import type { CompiledPolicy } from './engine.js';
import type { OutputInput } from './output-guards.js';
import type { GuardrailState } from './state.js';
import { rewriteStream } from './stream-rewrite.js';
import { maskSpans } from './vault.js';

/** What a policy's output guards made of one answer. */
interface Judgement {
  decisions: GuardDecision[];
  spans: EntitySpan[];
  /** The first guard that stops the answer as it is. */
  stop?: { guard: string; verdict: 'block' | 'retry' | 'fallback'; detail: string };
}

function judge(policy: CompiledPolicy, answer: string, input: OutputInput): Judgement {
  const j: Judgement = { decisions: [], spans: [] };
  for (const g of policy.output) {
    const t0 = performance.now();
    const f = g.check(answer, input);
    if (!f) continue;
    const d: GuardDecision = { guard: g.name, stage: 'output', action: g.action, verdict: f.verdict, score: f.score, ms: msSince(t0) };
    if (f.masked) d.masked = f.masked;
    if (f.detail && (f.verdict !== 'pass' || g.name === 'grounding')) d.detail = f.detail;
    j.decisions.push(d);
    if (f.verdict === 'mask' && f.spans) j.spans.push(...f.spans);
    if (f.verdict === 'block' || f.verdict === 'retry' || f.verdict === 'fallback') {
      j.stop = { guard: g.name, verdict: f.verdict, detail: f.detail ?? 'the answer is not allowed' };
      break;
    }
  }
  return j;
}

/** Sorted, overlaps dropped (the earlier, then longer span wins). */
function mergeSpans(spans: EntitySpan[]): EntitySpan[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: EntitySpan[] = [];
  for (const s of spans) if (out.length === 0 || s.start >= out[out.length - 1]!.end) out.push(s);
  return out;
}

function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a || !b) return b ?? a;
  return {
    ...b,
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    estimated: a.estimated || b.estimated,
    ...(a.providerCostUsd !== undefined && b.providerCostUsd !== undefined ? { providerCostUsd: a.providerCostUsd + b.providerCostUsd } : {}),
  };
}

/** One answer in hand: its text, and how to make it the call's result (masked or not). */
interface Answer {
  text: string;
  usage: Usage | undefined;
  commit(masked: string | null): void;
}

function chatAnswer(ctx: RequestContext, value: ChatResult): Answer {
  const msg = value.response.choices[0]?.message;
  return {
    text: contentText(msg?.content ?? null),
    usage: value.usage,
    commit(masked) {
      if (masked === null) {
        ctx.result = { kind: 'chat', value };
        return;
      }
      const { native: _native, ...rest } = value;
      const res = value.response;
      ctx.result = {
        kind: 'chat',
        value: { ...rest, response: { ...res, choices: res.choices.map((c, i) => (i === 0 ? { ...c, message: { ...c.message, content: masked } } : c)) } },
      };
    },
  };
}

async function drain(first: IteratorResult<StreamPart>, rest: AsyncIterator<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for (let step = first; !step.done; step = await rest.next()) parts.push(step.value);
  return parts;
}

function streamAnswer(ctx: RequestContext, parts: StreamPart[], attempt: Attempted<unknown>): Answer {
  let text = '';
  let usage: Usage | undefined;
  for (const p of parts) {
    text += p.chunk?.choices[0]?.delta.content ?? '';
    if (p.usage) usage = p.usage;
  }
  return {
    text,
    usage,
    commit(masked) {
      let out = parts;
      if (masked !== null) {
        let placed = false;
        out = parts.map((p) => {
          const c = p.chunk?.choices[0];
          const { native: _native, ...plain } = p;
          if (!c || c.delta.content == null) return plain;
          const content = placed ? '' : masked;
          placed = true;
          return { ...plain, chunk: { ...p.chunk!, choices: [{ ...c, delta: { ...c.delta, content } }, ...p.chunk!.choices.slice(1)] } };
        });
      }
      let i = 1;
      const rest: AsyncIterator<StreamPart> = {
        next: async () => (i < out.length ? { done: false, value: out[i++]! } : { done: true, value: undefined }),
      };
      const first: IteratorResult<StreamPart> = out.length > 0 ? { done: false, value: out[0]! } : { done: true, value: undefined };
      ctx.result = { kind: 'stream', first, rest, attempt };
    },
  };
}

export function outputGuards(executor: ExecutorDeps): Stage<RequestContext> {
  return async (ctx, next) => {
    await next();
    const state = ctx.guardrails;
    const r = ctx.result;
    if (!state || state.policy.output.length === 0 || !r || ctx.request?.kind !== 'chat') return;
    const input: OutputInput = { request: ctx.request.body, metadata: ctx.tags.metadata };
    if (r.kind === 'chat') {
      await settle(ctx, state, input, chatAnswer(ctx, r.value));
    } else if (r.kind === 'stream') {
      if (state.policy.stream === 'incremental') {
        incremental(ctx, state, input);
        return;
      }
      const parts = await drain(r.first, r.rest).finally(() => r.attempt.release());
      await settle(ctx, state, input, streamAnswer(ctx, parts, { ...r.attempt, release: () => undefined }));
    }
  };

  async function settle(ctx: RequestContext, state: GuardrailState, input: OutputInput, answer: Answer): Promise<void> {
    for (let round = 0; ; round++) {
      const j = judge(state.policy, answer.text, input);
      state.decisions.push(...j.decisions);
      if (!j.stop) {
        answer.commit(j.spans.length ? maskSpans(answer.text, mergeSpans(j.spans)) : null);
        return;
      }
      if (j.stop.verdict === 'block' || round > 0) throw blockedError(j.stop.guard, 'output', j.stop.detail);
      answer = await askAgain(ctx, input.request, answer, j.stop);
    }
  }

  /** `retry`: the same route, with the violation said; `fallback`: the route's other targets. */
  async function askAgain(ctx: RequestContext, req: ChatRequest, prev: Answer, stop: NonNullable<Judgement['stop']>): Promise<Answer> {
    const route = ctx.route;
    if (!route) throw blockedError(stop.guard, 'output', stop.detail);
    let r: Route = route;
    let body = req;
    if (stop.verdict === 'fallback') {
      const served = ctx.served ? `${ctx.served.provider}/${ctx.served.model}` : '';
      const others = route.targets.filter((t) => `${t.provider.name}/${t.model}` !== served);
      if (others.length === 0) throw blockedError(stop.guard, 'output', `${stop.detail} (no other target to fall back to)`);
      r = { ...route, strategy: 'fallback', targets: others, contextFallback: [] };
    } else {
      body = {
        ...req,
        messages: [
          ...req.messages,
          { role: 'assistant', content: prev.text },
          { role: 'user', content: `Your previous answer failed the '${stop.guard}' check: ${stop.detail}. Answer the request again, correcting this.` },
        ],
      };
    }
    const signal = ctx.http.cancel;
    let next: Answer;
    if (!ctx.stream) {
      const a = await executeRoute(r, executor, signal, ctx.attempts, (t, o) => t.provider.chat(body, t.model, o));
      a.release();
      ctx.served = { provider: a.target.provider.name, model: a.target.model };
      ctx.finishReason = a.value.response.choices[0]?.finish_reason ?? null;
      next = chatAnswer(ctx, a.value);
    } else {
      const a = await executeRoute(r, executor, signal, ctx.attempts, async (t, o) => {
        const rest = await t.provider.chatStream(body, t.model, o);
        return { first: await rest.next(), rest };
      });
      ctx.served = { provider: a.target.provider.name, model: a.target.model };
      const parts = await drain(a.value.first, a.value.rest).finally(() => a.release());
      next = streamAnswer(ctx, parts, { ...a, release: () => undefined });
    }
    ctx.usage = addUsage(ctx.usage ?? prev.usage, next.usage);
    return { ...next, usage: ctx.usage };
  }
}

/** Incremental mode: span guards mask (or block) in flight; whole-answer guards judge at the end. */
function incremental(ctx: RequestContext, state: GuardrailState, input: OutputInput): void {
  const r = ctx.result;
  if (r?.kind !== 'stream') return;
  const policy = state.policy;
  const spanGuards = policy.output.filter((g) => g.spans && g.action !== 'flag');
  const found = new Map<string, string[]>();
  const time = new Map<string, number>();
  let emitted = '';
  const window = policy.lookbehind;
  const s = rewriteStream(
    r,
    (held, final) => {
      let cut = final ? held.length : Math.max(0, held.length - window);
      if (!final && cut > 0) {
        // Cut at a word boundary so a value still arriving is judged whole.
        const ws = held.slice(0, cut).search(/\s\S*$/);
        if (ws > 0) cut = ws + 1;
      }
      const masks: EntitySpan[] = [];
      for (const g of spanGuards) {
        const t0 = performance.now();
        const spans = g.spans!(held);
        time.set(g.name, (time.get(g.name) ?? 0) + performance.now() - t0);
        for (const sp of spans) {
          if (sp.end > cut && !final) {
            cut = Math.min(cut, sp.start);
            continue;
          }
          if (g.action === 'block') {
            state.decisions.push({ guard: g.name, stage: 'output', action: g.action, verdict: 'block', score: null, masked: countTypes([sp.type]), ms: round(time.get(g.name)!) });
            throw blockedError(g.name, 'output', `found ${sp.type} in the answer`);
          }
          masks.push(sp);
          found.set(g.name, [...(found.get(g.name) ?? []), sp.type]);
        }
      }
      const safe = mergeSpans(masks.filter((m) => m.end <= cut));
      const emit = maskSpans(held.slice(0, cut), safe);
      emitted += emit;
      return { emit, hold: held.slice(cut) };
    },
    () => {
      for (const g of spanGuards) {
        const types = found.get(g.name) ?? [];
        const d: GuardDecision = { guard: g.name, stage: 'output', action: g.action, verdict: types.length ? 'mask' : 'pass', score: null, ms: round(time.get(g.name) ?? 0) };
        if (types.length) d.masked = countTypes(types);
        state.decisions.push(d);
      }
      // Whole-answer guards (and flag-only span guards) on the text as the client got it.
      const rest = { ...policy, output: policy.output.filter((g) => !spanGuards.includes(g)) };
      const j = judge(rest, emitted, input);
      state.decisions.push(...j.decisions);
      if (j.stop) throw blockedError(j.stop.guard, 'output', j.stop.detail);
    },
  );
  ctx.result = { ...r, first: s.first, rest: s.rest };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
