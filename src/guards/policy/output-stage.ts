/**
 * Stage, output guards (right after route): judges the answer under the call's policy.
 * A JSON answer, or a stream under `stream: buffer`, is held whole: guards run in order;
 * `mask` rewrites it, `flag` records, `block` fails the call with `guardrail_blocked`,
 * `retry` re-asks the model once with the violation appended as a user message, and
 * `fallback` asks the route's next target; if the second answer fails too, the call is
 * blocked. Under `stream: incremental` span guards (pii, secrets, toxicity) scan a
 * look-behind window as the text flows and mask in flight (or end the stream with the
 * error); whole-answer guards (json, grounding, toxicity's score) judge it at the end.
 * Every choice (`n` > 1) is judged, in incremental streams each in flight; `pii` and
 * `secrets` also read tool calls' arguments (incremental streams hold those until their
 * choice finishes).
 */
import { contentText, type ChatCompletionChunk, type ChatRequest, type Usage } from '../../canonical.js';
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
import { mapStream, rewriteStream, type StreamHandle } from './stream-rewrite.js';
import { maskSpans } from '../mask.js';

/**
 * One text of an answer the guards judge: a choice's content (`tool` -1) or one of its tool
 * calls' arguments. Whole-answer guards read contents; leak guards (pii, secrets) read both.
 */
interface Target {
  choice: number;
  tool: number;
  text: string;
  /** A content with no text beside tool calls: only leak guards look at it. */
  empty?: boolean;
}

/** What a policy's output guards made of one answer. */
interface Judgement {
  decisions: GuardDecision[];
  /** Spans to mask, by target index. */
  spans: Map<number, EntitySpan[]>;
  /** The first guard that stops the answer as it is. */
  stop?: { guard: string; verdict: 'block' | 'retry' | 'fallback'; detail: string };
}

function where(t: Target, many: boolean): string {
  if (t.tool >= 0) return `${many ? `choice ${t.choice} ` : ''}tool call ${t.tool} arguments: `;
  return many ? `choice ${t.choice}: ` : '';
}

function judge(policy: CompiledPolicy, targets: readonly Target[], input: OutputInput): Judgement {
  const j: Judgement = { decisions: [], spans: new Map() };
  const many = targets.some((t) => t.choice > 0);
  for (const g of policy.output) {
    const t0 = performance.now();
    let d: GuardDecision | undefined;
    const masked: string[] = [];
    let stopDetail: string | undefined;
    targets.forEach((t, ti) => {
      if (t.tool >= 0 ? !g.leaks : t.empty && !g.leaks) return;
      const f = g.check(t.text, input);
      if (!f) return;
      const fired = f.verdict !== 'pass';
      if (!d || (fired && d.verdict === 'pass')) {
        d = { guard: g.name, stage: 'output', action: g.action, verdict: f.verdict, score: f.score, ms: 0 };
        if (f.detail && (fired || g.name === 'grounding')) d.detail = where(t, many) + f.detail;
      }
      if (f.masked) for (const [type, n] of Object.entries(f.masked)) for (let k = 0; k < n; k++) masked.push(type);
      if (f.verdict === 'mask' && f.spans) j.spans.set(ti, [...(j.spans.get(ti) ?? []), ...f.spans]);
      if (f.verdict === 'block' || f.verdict === 'retry' || f.verdict === 'fallback') stopDetail ??= where(t, many) + (f.detail ?? 'the answer is not allowed');
    });
    if (!d) continue;
    const decision: GuardDecision = d;
    decision.ms = msSince(t0);
    if (masked.length) decision.masked = countTypes(masked);
    j.decisions.push(decision);
    if (stopDetail !== undefined && (decision.verdict === 'block' || decision.verdict === 'retry' || decision.verdict === 'fallback')) {
      j.stop = { guard: g.name, verdict: decision.verdict, detail: stopDetail };
      break;
    }
  }
  return j;
}

/** Each target's text masked where the judgement says (target index → masked text). */
function maskedTexts(targets: readonly Target[], j: Judgement): Map<number, string> | null {
  if (j.spans.size === 0) return null;
  const out = new Map<number, string>();
  for (const [ti, spans] of j.spans) out.set(ti, maskSpans(targets[ti]!.text, mergeSpans(spans)));
  return out;
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

/** One answer in hand: its texts, and how to make it the call's result (masked or not). */
interface Answer {
  targets: Target[];
  /** The first choice's content (what a re-ask quotes). */
  text: string;
  usage: Usage | undefined;
  commit(masked: Map<number, string> | null): void;
}

function chatTargets(value: ChatResult): Target[] {
  const out: Target[] = [];
  for (const c of value.response.choices) {
    const calls = c.message.tool_calls ?? [];
    const text = contentText(c.message.content ?? null);
    out.push({ choice: c.index, tool: -1, text, ...(calls.length && !text ? { empty: true } : {}) });
    calls.forEach((t, k) => out.push({ choice: c.index, tool: k, text: t.function.arguments }));
  }
  return out;
}

function chatAnswer(ctx: RequestContext, value: ChatResult): Answer {
  const targets = chatTargets(value);
  return {
    targets,
    text: targets.find((t) => t.tool < 0)?.text ?? '',
    usage: value.usage,
    commit(masked) {
      if (masked === null) {
        ctx.result = { kind: 'chat', value };
        return;
      }
      const by = new Map<string, string>();
      for (const [ti, text] of masked) by.set(`${targets[ti]!.choice}:${targets[ti]!.tool}`, text);
      const { native: _native, ...rest } = value;
      const res = value.response;
      const choices = res.choices.map((c) => {
        const content = by.get(`${c.index}:-1`);
        const calls = c.message.tool_calls?.map((t, k) => {
          const args = by.get(`${c.index}:${k}`);
          return args === undefined ? t : { ...t, function: { ...t.function, arguments: args } };
        });
        return { ...c, message: { ...c.message, ...(content !== undefined ? { content } : {}), ...(calls ? { tool_calls: calls } : {}) } };
      });
      ctx.result = { kind: 'chat', value: { ...rest, response: { ...res, choices } } };
    },
  };
}

async function drain(first: IteratorResult<StreamPart>, rest: AsyncIterator<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for (let step = first; !step.done; step = await rest.next()) parts.push(step.value);
  return parts;
}

function streamAnswer(ctx: RequestContext, parts: StreamPart[], attempt: Attempted<unknown>): Answer {
  const texts = new Map<string, Target>();
  let usage: Usage | undefined;
  const target = (choice: number, tool: number): Target => {
    const key = `${choice}:${tool}`;
    let t = texts.get(key);
    if (!t) texts.set(key, (t = { choice, tool, text: '' }));
    return t;
  };
  for (const p of parts) {
    for (const c of p.chunk?.choices ?? []) {
      const content = target(c.index, -1);
      content.text += c.delta.content ?? '';
      for (const t of c.delta.tool_calls ?? []) target(c.index, t.index).text += t.function?.arguments ?? '';
    }
    if (p.usage) usage = p.usage;
  }
  const targets = [...texts.values()].sort((a, b) => a.choice - b.choice || a.tool - b.tool);
  for (const t of targets) if (t.tool < 0 && !t.text && texts.has(`${t.choice}:0`)) t.empty = true;
  return {
    targets,
    text: texts.get('0:-1')?.text ?? '',
    usage,
    commit(masked) {
      let out = parts;
      if (masked !== null) {
        const by = new Map<string, string>();
        for (const [ti, text] of masked) by.set(`${targets[ti]!.choice}:${targets[ti]!.tool}`, text);
        const placed = new Set<string>();
        /** The masked text goes in the target's first delta, the later ones are emptied. */
        const put = (key: string, original: string): string => {
          const m = by.get(key);
          if (m === undefined) return original;
          if (placed.has(key)) return '';
          placed.add(key);
          return m;
        };
        out = parts.map((p) => {
          const { native: _native, ...plain } = p;
          if (!p.chunk || p.chunk.choices.length === 0) return plain;
          const choices = p.chunk.choices.map((c) => {
            const delta = { ...c.delta };
            if (delta.content != null) delta.content = put(`${c.index}:-1`, delta.content);
            if (delta.tool_calls) {
              delta.tool_calls = delta.tool_calls.map((t) =>
                t.function?.arguments != null ? { ...t, function: { ...t.function, arguments: put(`${c.index}:${t.index}`, t.function.arguments) } } : t,
              );
            }
            return { ...c, delta };
          });
          return { ...plain, chunk: { ...p.chunk, choices } };
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
      const j = judge(state.policy, answer.targets, input);
      state.decisions.push(...j.decisions);
      if (!j.stop) {
        answer.commit(maskedTexts(answer.targets, j));
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
  /** What each choice's client got, for the whole-answer guards at the end. */
  const emitted = new Map<number, string>();
  const window = policy.lookbehind;
  /**
   * Runs every span guard on `text`, timing each. A blocking guard's first span ends the call
   * (`where` is appended to the message); spans `defer` declines are left for later; the rest
   * are returned to be masked.
   */
  const scan = (text: string, where: string, defer?: (sp: EntitySpan) => boolean): EntitySpan[] => {
    const masks: EntitySpan[] = [];
    for (const g of spanGuards) {
      const t0 = performance.now();
      const spans = g.spans!(text);
      time.set(g.name, (time.get(g.name) ?? 0) + performance.now() - t0);
      for (const sp of spans) {
        if (defer?.(sp)) continue;
        if (g.action === 'block') {
          state.decisions.push({ guard: g.name, stage: 'output', action: g.action, verdict: 'block', score: null, masked: countTypes([sp.type]), ms: round(time.get(g.name)!) });
          throw blockedError(g.name, 'output', `found ${sp.type} in the answer${where}`);
        }
        masks.push(sp);
        found.set(g.name, [...(found.get(g.name) ?? []), sp.type]);
      }
    }
    return masks;
  };
  /** Tool-call arguments, judged whole by the span guards when their choice finishes. */
  const judgeWhole = (text: string, where: string): string => {
    const masks = scan(text, ` (${where})`);
    return masks.length ? maskSpans(text, mergeSpans(masks)) : text;
  };
  const s = rewriteStream(
    holdSideTexts(r, judgeWhole),
    (held, final, choice) => {
      let cut = final ? held.length : Math.max(0, held.length - window);
      if (!final && cut > 0) {
        // Cut at a word boundary so a value still arriving is judged whole.
        const ws = held.slice(0, cut).search(/\s\S*$/);
        if (ws > 0) cut = ws + 1;
      }
      // A span still growing past the cut waits: the cut moves back before it.
      const masks = scan(held, choice > 0 ? ` (choice ${choice})` : '', (sp) => {
        if (sp.end <= cut || final) return false;
        cut = Math.min(cut, sp.start);
        return true;
      });
      const safe = mergeSpans(masks.filter((m) => m.end <= cut));
      const emit = maskSpans(held.slice(0, cut), safe);
      emitted.set(choice, (emitted.get(choice) ?? '') + emit);
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
      const texts = emitted.size > 0 ? [...emitted].sort((a, b) => a[0] - b[0]) : [[0, ''] as const];
      const j = judge(rest, texts.map(([choice, text]) => ({ choice, tool: -1, text })), input);
      state.decisions.push(...j.decisions);
      if (j.stop) throw blockedError(j.stop.guard, 'output', j.stop.detail);
    },
  );
  ctx.result = { ...r, first: s.first, rest: s.rest };
}

/**
 * Incremental mode, beside the in-flight scan of every choice's text: each tool call's
 * arguments are held back until their choice finishes (or the stream ends), then go out
 * whole, through `judge` (which masks, or throws to block): a JSON value is judged whole.
 */
function holdSideTexts(s: StreamHandle, judge: (text: string, where: string) => string): StreamHandle {
  const held = new Map<string, { choice: number; tool: number; text: string }>();
  let last: ChatCompletionChunk | undefined;
  type Choice = ChatCompletionChunk['choices'][number];
  const release = (choice: number | undefined, into: Choice['delta']): void => {
    for (const [key, h] of held) {
      if (choice !== undefined && h.choice !== choice) continue;
      held.delete(key);
      if (!h.text) continue;
      into.tool_calls = [...(into.tool_calls ?? []), { index: h.tool, function: { arguments: judge(h.text, `tool call ${h.tool} arguments`) } }];
    }
  };
  const hold = (choice: number, tool: number, text: string): void => {
    const key = `${choice}:${tool}`;
    const h = held.get(key);
    if (h) h.text += text;
    else held.set(key, { choice, tool, text });
  };
  const feed = (raw: StreamPart): StreamPart => {
    if (!raw.chunk || raw.chunk.choices.length === 0) return raw;
    const { native: _native, ...p } = raw;
    last = p.chunk;
    const choices = p.chunk!.choices.map((c): Choice => {
      const delta = { ...c.delta };
      if (delta.tool_calls) {
        delta.tool_calls = delta.tool_calls.map((t) => {
          if (!t.function?.arguments) return t;
          hold(c.index, t.index, t.function.arguments);
          return { ...t, function: { ...t.function, arguments: '' } };
        });
      }
      if (c.finish_reason != null) release(c.index, delta);
      return { ...c, delta };
    });
    return { ...p, chunk: { ...p.chunk!, choices } };
  };
  return mapStream(s, feed, () => {
    const choices = new Map<number, Choice>();
    for (const h of [...held.values()]) {
      let c = choices.get(h.choice);
      if (!c) choices.set(h.choice, (c = { index: h.choice, delta: {}, finish_reason: null }));
      release(h.choice, c.delta);
    }
    const out = [...choices.values()].filter((c) => c.delta.tool_calls);
    return out.length && last ? { chunk: { ...last, choices: out } } : undefined;
  });
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
