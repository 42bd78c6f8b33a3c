/**
 * The `demo` provider: offline and deterministic, so `npm start` works with no keys and no
 * network. It answers like a real model would in shape (text, tool calls, JSON mode,
 * `max_tokens` truncation, stop sequences, streaming, embeddings) with usage counted by
 * the tokenizer. The same request always gets the same answer.
 */
import { createHash, hash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  contentText,
  requestedMaxTokens,
  usageToOpenAI,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type EmbeddingsRequest,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '../../canonical.js';
import { countChatInputTokens, countTokens } from '../../token-counter.js';
import type { CallOptions, ChatResult, EmbeddingsResult, Provider, StreamPart } from '../types.js';

export interface DemoProviderConfig {
  /** Simulated delay before the answer starts, in ms (0 by default). */
  latency_ms?: number | undefined;
  /** Simulated delay between streamed chunks, in ms (0 by default). */
  chunk_delay_ms?: number | undefined;
}

interface DemoAnswer {
  content: string | null;
  toolCalls: ToolCall[] | undefined;
  finish: FinishReason;
  usage: Usage;
}

function digest(text: string): string {
  return hash('sha256', text, 'hex');
}

/** A sample value that satisfies a JSON schema's shape, for tool arguments and JSON mode. */
function sampleFor(schema: unknown, seed: string, depth = 0): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return `demo-${seed.slice(0, 6)}`;
    case 'integer':
      return parseInt(seed.slice(0, 2), 16);
    case 'number':
      return parseInt(seed.slice(0, 4), 16) / 100;
    case 'boolean':
      return parseInt(seed.slice(0, 1), 16) % 2 === 0;
    case 'array':
      return depth > 4 ? [] : [sampleFor(s.items, seed, depth + 1)];
    case 'null':
      return null;
    default: {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      if (depth > 4) return out;
      for (const [key, sub] of Object.entries(props)) out[key] = sampleFor(sub, digest(seed + key), depth + 1);
      return out;
    }
  }
}

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i];
    if (m && m.role === 'user') return contentText(m.content);
  }
  return '';
}

function applyStop(text: string, stop: ChatRequest['stop']): { text: string; stopped: boolean } {
  const stops = stop == null ? [] : Array.isArray(stop) ? stop : [stop];
  let cut = -1;
  for (const s of stops) {
    const i = s ? text.indexOf(s) : -1;
    if (i !== -1 && (cut === -1 || i < cut)) cut = i;
  }
  return cut === -1 ? { text, stopped: false } : { text: text.slice(0, cut), stopped: true };
}

/** Cuts text to at most `max` tokens, by words (the demo's unit of "generation"). */
function truncateTokens(text: string, max: number): { text: string; truncated: boolean } {
  if (countTokens(text) <= max) return { text, truncated: false };
  const words = text.split(/(?<=\s)/);
  let out = '';
  for (const w of words) {
    if (countTokens(out + w) > max) break;
    out += w;
  }
  return { text: out, truncated: true };
}

function answer(req: ChatRequest): DemoAnswer {
  const seed = digest(JSON.stringify(req.messages));
  const inputTokens = countChatInputTokens(req);
  const last = req.messages[req.messages.length - 1];
  const tools = req.tools ?? [];
  const choice = req.tool_choice;
  const wantsTool =
    tools.length > 0 &&
    choice !== 'none' &&
    last?.role !== 'tool' &&
    (choice === 'required' || typeof choice === 'object' || tools.some((t) => lastUserText(req).toLowerCase().includes(t.function.name.toLowerCase())));

  if (wantsTool) {
    const tool = typeof choice === 'object' ? tools.find((t) => t.function.name === choice.function.name) ?? tools[0] : tools[0];
    const fn = tool!.function;
    const args = JSON.stringify(sampleFor(fn.parameters ?? { type: 'object' }, seed));
    const toolCalls: ToolCall[] = [{ id: `call_${seed.slice(0, 24)}`, type: 'function', function: { name: fn.name, arguments: args } }];
    const outputTokens = 3 + countTokens(fn.name) + countTokens(args);
    return { content: null, toolCalls, finish: 'tool_calls', usage: usageOf(inputTokens, outputTokens) };
  }

  let text: string;
  const format = req.response_format;
  if (format?.type === 'json_schema') {
    text = JSON.stringify(sampleFor(format.json_schema.schema ?? { type: 'object' }, seed));
  } else if (format?.type === 'json_object') {
    text = JSON.stringify({ answer: `demo answer ${seed.slice(0, 8)}`, question: lastUserText(req).slice(0, 80) });
  } else if (last?.role === 'tool') {
    text = `The tool returned: ${contentText(last.content).slice(0, 200)}. That is all the demo model can say about it.`;
  } else {
    const asked = lastUserText(req).replace(/\s+/g, ' ').trim().slice(0, 120);
    text =
      `This is the llmops demo model. You asked: "${asked}". ` +
      `It runs offline and answers deterministically (reply ${seed.slice(0, 8)}), ` +
      'so the same request always gets the same answer. Configure a real provider to get real answers.';
  }
  let finish: FinishReason = 'stop';
  const stopped = applyStop(text, req.stop);
  text = stopped.text;
  const max = requestedMaxTokens(req);
  if (max != null) {
    const t = truncateTokens(text, max);
    text = t.text;
    if (t.truncated) finish = 'length';
  }
  return { content: text, toolCalls: undefined, finish, usage: usageOf(inputTokens, countTokens(text)) };
}

function usageOf(inputTokens: number, outputTokens: number): Usage {
  return { inputTokens, outputTokens, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false };
}

function abortable(ms: number, signal: AbortSignal): Promise<void> {
  return ms > 0 ? sleep(ms, undefined, { signal }) : Promise.resolve();
}

export class DemoProvider implements Provider {
  readonly type = 'demo' as const;

  constructor(
    readonly name: string,
    private readonly cfg: DemoProviderConfig = {},
  ) {}

  async chat(req: ChatRequest, model: string, opts: CallOptions): Promise<ChatResult> {
    await abortable(this.cfg.latency_ms ?? 0, opts.attempt.signal);
    const a = answer(req);
    const id = `chatcmpl-demo${digest(model + JSON.stringify(req.messages)).slice(0, 20)}`;
    const response: ChatCompletion = {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: a.content, ...(a.toolCalls ? { tool_calls: a.toolCalls } : {}), refusal: null },
          finish_reason: a.finish,
          logprobs: null,
        },
      ],
      usage: usageToOpenAI(a.usage),
      system_fingerprint: 'llmops-demo',
    };
    return { response, usage: a.usage };
  }

  async chatStream(req: ChatRequest, model: string, opts: CallOptions): Promise<AsyncIterator<StreamPart>> {
    await abortable(this.cfg.latency_ms ?? 0, opts.attempt.signal);
    const a = answer(req);
    const id = `chatcmpl-demo${digest(model + JSON.stringify(req.messages)).slice(0, 20)}`;
    const created = Math.floor(Date.now() / 1000);
    const wantsUsage = req.stream_options?.include_usage === true;
    const delay = this.cfg.chunk_delay_ms ?? 0;
    const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null): ChatCompletionChunk => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'llmops-demo',
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    });
    async function* parts(): AsyncGenerator<StreamPart> {
      yield { chunk: chunk({ role: 'assistant', content: a.content === null ? null : '' }, null) };
      if (a.toolCalls) {
        for (const [index, tc] of a.toolCalls.entries()) {
          yield { chunk: chunk({ tool_calls: [{ index, id: tc.id, type: 'function', function: { name: tc.function.name, arguments: '' } }] }, null) };
          // Arguments arrive in pieces, as real models stream them.
          for (let i = 0; i < tc.function.arguments.length; i += 8) {
            await abortable(delay, opts.attempt.signal);
            yield { chunk: chunk({ tool_calls: [{ index, function: { arguments: tc.function.arguments.slice(i, i + 8) } }] }, null) };
          }
        }
      } else {
        for (const piece of (a.content ?? '').split(/(?<=\s)/)) {
          if (!piece) continue;
          await abortable(delay, opts.attempt.signal);
          yield { chunk: chunk({ content: piece }, null) };
        }
      }
      yield { chunk: chunk({}, a.finish) };
      const usageChunk: ChatCompletionChunk = { ...chunk({}, null), choices: [], usage: usageToOpenAI(a.usage) };
      yield wantsUsage ? { chunk: usageChunk, usage: a.usage } : { usage: a.usage };
    }
    return parts();
  }

  async embeddings(req: EmbeddingsRequest, model: string, opts: CallOptions): Promise<EmbeddingsResult> {
    await abortable(this.cfg.latency_ms ?? 0, opts.attempt.signal);
    const inputs = typeof req.input === 'string' ? [req.input] : Array.isArray(req.input) ? req.input : [String(req.input)];
    const dims = req.dimensions ?? 256;
    let tokens = 0;
    const data = inputs.map((input, index) => {
      const text = typeof input === 'string' ? input : JSON.stringify(input);
      tokens += typeof input === 'string' ? countTokens(input) : Array.isArray(input) ? input.length : 1;
      const vector = embed(text, dims);
      // base64 is what the official SDKs ask for by default: little-endian float32s.
      const embedding = req.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding' as const, index, embedding };
    });
    return {
      response: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
      usage: usageOf(tokens, 0),
    };
  }
}

/** A deterministic unit vector from hashed word trigrams: similar texts get similar vectors. */
function embed(text: string, dims: number): number[] {
  const v = new Array<number>(dims).fill(0);
  const words = text.toLowerCase().split(/\W+/).filter(Boolean);
  for (const w of words) {
    const padded = `#${w}#`;
    for (let i = 0; i + 3 <= padded.length; i++) {
      const h = createHash('md5').update(padded.slice(i, i + 3)).digest();
      const idx = h.readUInt32LE(0) % dims;
      v[idx]! += (h[4]! & 1) === 0 ? 1 : -1;
    }
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}
