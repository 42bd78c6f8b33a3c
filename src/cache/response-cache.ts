/**
 * The response cache's policy and plumbing, free of HTTP: which requests may use the
 * cache (per-request headers, per-model config, the temperature rule), their keys, the
 * lookup (exact, then semantic) and the fill of successful, complete answers.
 *
 * @example
 * const cache = new ResponseCache({ config, backend: new MemoryCacheBackend({ maxEntries: 1000, maxBytes: 1 << 26 }), prices, log });
 * const plan = cache.plan(ctx);        // undefined: skip
 * const hit = plan && (await cache.lookup(plan));
 */
import { contentText, embeddingsShape, usageToOpenAI, type ChatCompletion, type ChatMessage, type ChatRequest, type Usage } from '../canonical.js';
import type { CacheConfig } from '../config/schema.js';
import { LlmopsError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RequestContext } from '../pipeline/context.js';
import type { PriceTable } from '../pricing/price-table.js';
import type { StreamPart } from '../providers/types.js';
import { countChatInputTokens, countTokens, estimateEmbeddingsUsage } from '../token-counter.js';
import type { CacheBackend } from './backend.js';
import { exactKey, outputFields, sha256, stableJson } from './cache-key.js';
import { makeEntry, type CacheEntry } from './entry.js';
import type { SemanticCache } from './semantic/semantic-cache.js';

export type CacheStatus = 'hit' | 'miss' | 'skip';

/** What the cache did for one request; read by `respond` (header) and `record` (trace). */
export interface CacheOutcome {
  status: CacheStatus;
  /** Trace attributes (`llmops.cache.*`): kind, similarity, saved tokens and USD. */
  attributes?: Record<string, unknown>;
}

export interface CacheHit {
  entry: CacheEntry;
  kind: 'exact' | 'semantic';
  similarity?: number;
}

/** One request's use of the cache, decided before the lookup. */
export interface CachePlan {
  key: string;
  /** False under `x-llmops-cache: refresh`: the answer is fetched anew and stored. */
  read: boolean;
  ttlMs: number;
  semantic?: { scope: string; text: string; vector?: Float32Array };
}

export interface ResponseCacheDeps {
  config: CacheConfig;
  backend: CacheBackend;
  semantic?: SemanticCache | undefined;
  prices: PriceTable;
  log: Logger;
  /**
   * The `provider/model` targets that answer a requested model (see `Route.answeredBy`), part
   * of every key: after a config reload points a model elsewhere, its old answers are not
   * served. Undefined for a model that does not route: the call is not cached.
   */
  answeredBy?: (model: string) => string | undefined;
}

type ModelRule = CacheConfig['models'][string];

const SEMANTIC_OMIT: ReadonlySet<string> = new Set(['messages', 'system']);

function header(ctx: RequestContext, name: string): string | undefined {
  const v = ctx.http.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class ResponseCache {
  readonly backend: CacheBackend;
  readonly semantic: SemanticCache | undefined;
  private readonly cfg: CacheConfig;
  private readonly rules = new Map<string, ModelRule>();
  private readonly patterns: Array<[prefix: string, rule: ModelRule]> = [];
  private lastWarn = 0;

  constructor(private readonly deps: ResponseCacheDeps) {
    this.cfg = deps.config;
    this.backend = deps.backend;
    this.semantic = deps.semantic;
    for (const [name, rule] of Object.entries(this.cfg.models)) {
      if (name.endsWith('*')) this.patterns.push([name.slice(0, -1), rule]);
      else this.rules.set(name, rule);
    }
    this.patterns.sort((a, b) => b[0].length - a[0].length);
  }

  private rule(model: string): ModelRule | undefined {
    const r = this.rules.get(model);
    if (r) return r;
    for (const [prefix, rule] of this.patterns) if (model.startsWith(prefix)) return rule;
    return undefined;
  }

  /** Decides whether and how this request uses the cache; undefined means skip. Throws on a bad cache header. */
  plan(ctx: RequestContext): CachePlan | undefined {
    const req = ctx.request;
    if (!req) return undefined;
    const mode = header(ctx, 'x-llmops-cache');
    if (mode !== undefined && mode !== 'no-store' && mode !== 'refresh' && mode !== 'default') {
      throw new LlmopsError('invalid_request', `Invalid request: x-llmops-cache must be no-store, refresh or default, not '${mode}'`, { param: 'x-llmops-cache' });
    }
    if (mode === 'no-store') return undefined;
    const rule = this.rule(req.body.model);
    if (rule?.enabled === false) return undefined;
    if (req.kind === 'chat') {
      if ((req.body.n ?? 1) !== 1) return undefined;
      if ((req.body.temperature ?? 0) > 0 && !(rule?.cache_nonzero_temperature ?? this.cfg.cache_nonzero_temperature)) return undefined;
    }

    let ttlSeconds = rule?.ttl_seconds ?? this.cfg.ttl_seconds;
    const ttlHeader = header(ctx, 'x-llmops-cache-ttl');
    if (ttlHeader !== undefined) {
      const n = Number(ttlHeader);
      if (!/^\d+$/.test(ttlHeader.trim()) || n <= 0) {
        throw new LlmopsError('invalid_request', 'Invalid request: x-llmops-cache-ttl must be a positive number of seconds', { param: 'x-llmops-cache-ttl' });
      }
      ttlSeconds = Math.min(n, this.cfg.max_ttl_seconds);
    }

    let tenant = this.tenant(ctx);
    if (this.deps.answeredBy) {
      const by = this.deps.answeredBy(req.body.model);
      if (by === undefined) return undefined;
      tenant = `${tenant}\n${by}`;
    }
    // Embeddings: one exact key over model, input and the output options (a vector is the
    // same every time: no temperature rule, and no semantic lookup, which is for questions).
    if (req.kind === 'embeddings') return { key: exactKey(tenant, ctx.inbound.name, req.body as unknown as Record<string, unknown>), read: mode !== 'refresh', ttlMs: ttlSeconds * 1000 };
    const body = req.body;
    const wire = req.native?.body ?? (body as Record<string, unknown>);
    const plan: CachePlan = { key: exactKey(tenant, ctx.inbound.name, wire), read: mode !== 'refresh', ttlMs: ttlSeconds * 1000 };
    if (this.semantic && (rule?.semantic ?? true)) {
      const text = lastUserText(body.messages);
      if (text !== undefined) {
        const context = body.messages.slice(0, -1);
        plan.semantic = {
          scope: sha256(`${tenant}\n${ctx.inbound.name}\n${stableJson(outputFields(wire, SEMANTIC_OMIT))}\n${stableJson(context)}`),
          text,
        };
      }
    }
    return plan;
  }

  private tenant(ctx: RequestContext): string {
    const p = ctx.principal;
    if (!p) return 'anonymous';
    if (this.cfg.namespace === 'team') {
      const team = p.metadata?.team;
      if (typeof team === 'string' && team !== '') return `team:${team}`;
    }
    return `key:${p.keyId ?? 'admin'}`;
  }

  /** Exact, then semantic. Backend or embedder failures count as a miss (logged), never as an error. */
  async lookup(plan: CachePlan): Promise<CacheHit | undefined> {
    if (!plan.read) return undefined;
    try {
      const got = this.backend.get(plan.key);
      const entry = got instanceof Promise ? await got : got;
      if (entry) return { entry, kind: 'exact' };
      const sem = plan.semantic;
      if (!sem || !this.semantic) return undefined;
      const v = this.semantic.embed(sem.text);
      sem.vector = v instanceof Promise ? await v : v;
      const match = this.semantic.search(sem.scope, sem.vector);
      if (!match) return undefined;
      const e = await this.backend.get(match.key);
      if (!e) {
        this.semantic.forget(match.key);
        return undefined;
      }
      return { entry: e, kind: 'semantic', similarity: match.similarity };
    } catch (err) {
      this.warn('cache lookup failed', err);
      return undefined;
    }
  }

  /** What a hit saved, as trace attributes. */
  hitAttributes(hit: CacheHit): Record<string, unknown> {
    const e = hit.entry;
    const u = e.usage;
    let saved: number | null = null;
    if (u) saved = u.providerCostUsd ?? this.deps.prices.cost(u, e.model, e.provider);
    const attrs: Record<string, unknown> = {
      'llmops.cache.kind': hit.kind,
      'llmops.cache.saved_input_tokens': u?.inputTokens ?? 0,
      'llmops.cache.saved_output_tokens': u?.outputTokens ?? 0,
      'llmops.cache.saved_usd': saved,
      'llmops.cache.provider': e.provider,
      'llmops.cache.model': e.model,
      'llmops.cache.age_ms': Date.now() - e.createdAt,
    };
    if (hit.similarity !== undefined) {
      attrs['llmops.cache.similarity'] = Math.round(hit.similarity * 10_000) / 10_000;
      attrs['llmops.cache.embedder'] = this.semantic?.embedder.name;
    }
    return attrs;
  }

  /**
   * Stores a successful answer. A non-streamed answer is stored at once; a stream is
   * watched as `respond` pumps it and stored only when it ends complete (a finish reason
   * came and the upstream closed cleanly) — a broken or abandoned stream is never stored.
   */
  fill(ctx: RequestContext, plan: CachePlan): void {
    const r = ctx.result;
    if (!r || ctx.error || !ctx.served) return;
    const served = ctx.served;
    if (r.kind === 'embeddings') {
      const usage = r.value.usage ?? (ctx.request?.kind === 'embeddings' ? estimateEmbeddingsUsage(ctx.request.body) : null);
      const body = ctx.inbound.renderEmbeddings(r.value);
      this.store(plan, makeEntry(body, embeddingsShape(r.value.response), { usage, provider: served.provider, model: served.model, createdAt: Date.now(), finishReason: null }));
      return;
    }
    const req = ctx.request?.body as ChatRequest;
    if (r.kind === 'chat') {
      const res = r.value.response;
      const finish = res.choices[0]?.finish_reason;
      if (!finish) return;
      const body = ctx.inbound.renderChat(r.value, ctx.requestedModel ?? '');
      const usage = r.value.usage ?? estimate(req, res);
      this.store(plan, makeEntry(body, res, { usage, provider: served.provider, model: served.model, createdAt: Date.now(), finishReason: finish }));
      return;
    }
    if (r.kind !== 'stream') return;
    const acc = new StreamAssembler();
    if (!r.first.done) acc.add(r.first.value);
    const inner = r.rest;
    const wrapped: AsyncIterator<StreamPart> = {
      next: async () => {
        const step = await inner.next();
        if (!step.done) acc.add(step.value);
        else {
          const res = acc.completion();
          if (res) {
            const usage = acc.usage ?? estimate(req, res);
            const body = ctx.inbound.renderChat({ response: res, usage }, ctx.requestedModel ?? '');
            const finish = res.choices[0]!.finish_reason;
            this.store(plan, makeEntry(body, res, { usage, provider: served.provider, model: served.model, createdAt: Date.now(), finishReason: finish }));
          }
        }
        return step;
      },
    };
    if (inner.return) wrapped.return = (v?: unknown) => inner.return!(v);
    if (inner.throw) wrapped.throw = (e?: unknown) => inner.throw!(e);
    r.rest = wrapped;
  }

  private store(plan: CachePlan, entry: CacheEntry): void {
    this.backend.set(plan.key, entry, plan.ttlMs).catch((err: unknown) => this.warn('cache fill failed', err));
    const sem = plan.semantic;
    if (!sem || !this.semantic) return;
    const expiresAt = entry.createdAt + plan.ttlMs;
    if (sem.vector) {
      this.semantic.add(sem.scope, sem.vector, plan.key, expiresAt);
      return;
    }
    Promise.resolve(this.semantic.embed(sem.text))
      .then((v) => this.semantic!.add(sem.scope, v, plan.key, expiresAt))
      .catch((err: unknown) => this.warn('semantic cache fill failed', err));
  }

  private warn(msg: string, err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn < 5000) return;
    this.lastWarn = now;
    this.deps.log.warn(msg, { err });
  }

  /**
   * Drops every cached answer: the exact entries and the semantic index (in Redis, for every
   * instance sharing it; other instances' in-memory semantic indexes then point at nothing and miss).
   */
  async clear(): Promise<void> {
    await this.backend.clear();
    await this.semantic?.clear();
  }

  async close(): Promise<void> {
    this.semantic?.close();
    await this.backend.close();
  }
}

/** The text of the conversation's last message when it is a user's text-only turn. */
function lastUserText(messages: ChatMessage[]): string | undefined {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'user') return undefined;
  if (Array.isArray(last.content) && last.content.some((p) => p.type !== 'text')) return undefined;
  const text = contentText(last.content ?? null);
  return text.trim() === '' ? undefined : text;
}

function estimate(req: ChatRequest, res: ChatCompletion): Usage {
  const msg = res.choices[0]?.message;
  const out = (msg?.content ?? '') + (msg?.tool_calls ?? []).map((t) => t.function.name + t.function.arguments).join('');
  return { inputTokens: countChatInputTokens(req), outputTokens: countTokens(out), cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true };
}

/** Rebuilds the complete answer from a stream's canonical chunks (single choice). */
class StreamAssembler {
  private id = '';
  private model = '';
  private created = 0;
  private content = '';
  private refusal = '';
  private readonly toolCalls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  private finish: ChatCompletion['choices'][number]['finish_reason'] = null;
  usage: Usage | undefined;

  add(p: StreamPart): void {
    if (p.usage) this.usage = p.usage;
    const c = p.chunk;
    if (!c) return;
    if (!this.id && c.id) this.id = c.id;
    if (!this.model && c.model) this.model = c.model;
    if (!this.created && c.created) this.created = c.created;
    const choice = c.choices[0];
    if (!choice) return;
    const d = choice.delta;
    if (d.content) this.content += d.content;
    if (d.refusal) this.refusal += d.refusal;
    for (const tc of d.tool_calls ?? []) {
      const call = (this.toolCalls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (tc.id) call.id = tc.id;
      if (tc.function?.name) call.function.name += tc.function.name;
      if (tc.function?.arguments) call.function.arguments += tc.function.arguments;
    }
    if (choice.finish_reason) this.finish = choice.finish_reason;
  }

  /** The answer, or undefined when the stream never said it finished. */
  completion(): ChatCompletion | undefined {
    if (!this.finish) return undefined;
    const toolCalls = this.toolCalls.filter((t) => t !== undefined);
    const res: ChatCompletion = {
      id: this.id || 'chatcmpl-cache',
      object: 'chat.completion',
      created: this.created || Math.floor(Date.now() / 1000),
      model: this.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: this.content === '' && toolCalls.length ? null : this.content,
            ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            ...(this.refusal ? { refusal: this.refusal } : {}),
          },
          finish_reason: this.finish,
        },
      ],
    };
    if (this.usage) res.usage = usageToOpenAI(this.usage);
    return res;
  }
}
