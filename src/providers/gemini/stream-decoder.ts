/**
 * Gemini's `streamGenerateContent?alt=sse` stream → canonical chunks. Each SSE `data:` is
 * a whole `GenerateContentResponse` holding the next piece of each candidate; the last one
 * of a candidate has its `finishReason`, and `usageMetadata` grows as the stream goes.
 *
 * Gemini sends a function call whole, in one part: it becomes two tool call deltas, the
 * way OpenAI streams them (id, type and name with empty arguments, then the arguments).
 * A stream that ends before every candidate finished is an `upstream_stream_error`.
 */
import { randomUUID } from 'node:crypto';
import { usageToOpenAI, type ChatCompletionChunk, type Usage } from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import type { SseEvent } from '../../sse.js';
import type { StreamDecoder, StreamPart } from '../types.js';
import { blockedRefusal, finishReason, geminiUsage, googleErrorOf, toolCallId } from './translate.js';
import type { GeminiResponse } from './wire.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

interface CandidateState {
  started: boolean;
  toolCalls: number;
  finished: boolean;
}

export class GeminiStreamDecoder implements StreamDecoder {
  private readonly created = Math.floor(Date.now() / 1000);
  private id: string | undefined;
  private seed: string | undefined;
  private model: string;
  private usage: Usage | undefined;
  private readonly candidates = new Map<number, CandidateState>();
  private blocked = false;

  constructor(
    private readonly provider: string,
    model: string,
    /** The client asked for `stream_options.include_usage`: end with a usage-only chunk. */
    private readonly clientWantsUsage: boolean,
  ) {
    this.model = model;
  }

  event(ev: SseEvent): StreamPart[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(ev.data);
    } catch {
      throw this.streamError('malformed event in the upstream stream');
    }
    const err = googleErrorOf(parsed);
    if (err) throw this.streamError(err.message ?? 'error event in stream');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw this.streamError('stream event is not a JSON object');
    const res = parsed as GeminiResponse;
    if (this.id === undefined) {
      this.seed = res.responseId ?? randomUUID();
      this.id = res.responseId ?? `chatcmpl-${this.seed}`;
      if (res.modelVersion) this.model = res.modelVersion;
    }
    const usage = geminiUsage(res.usageMetadata);
    if (usage) this.usage = usage;

    const out: ChatCompletionChunk[] = [];
    const candidates = Array.isArray(res.candidates) ? res.candidates : [];
    if (candidates.length === 0 && res.promptFeedback?.blockReason) {
      this.blocked = true;
      out.push(this.chunk(0, { role: 'assistant', content: null, refusal: blockedRefusal(res.promptFeedback.blockReason) }, 'content_filter'));
    }
    for (const [i, c] of candidates.entries()) {
      const index = c.index ?? i;
      let state = this.candidates.get(index);
      if (!state) {
        state = { started: false, toolCalls: 0, finished: false };
        this.candidates.set(index, state);
      }
      const deltas: Delta[] = [];
      for (const part of c.content?.parts ?? []) {
        if (part.thought === true) continue;
        if (typeof part.text === 'string' && part.text !== '') deltas.push({ content: part.text });
        if (part.functionCall) {
          const call = part.functionCall;
          const k = state.toolCalls++;
          const id = toolCallId(this.seed ?? '', index, k, call, part.thoughtSignature);
          deltas.push({ tool_calls: [{ index: k, id, type: 'function', function: { name: call.name, arguments: '' } }] });
          deltas.push({ tool_calls: [{ index: k, function: { arguments: JSON.stringify(call.args ?? {}) } }] });
        }
      }
      // A finish repeated by a later event (e.g. one carrying only usage) is said once.
      const finish = state.finished ? null : finishReason(c.finishReason, state.toolCalls > 0);
      if (finish) state.finished = true;
      if (deltas.length === 0 && finish) deltas.push({});
      for (const [j, d] of deltas.entries()) {
        const delta: Delta = state.started ? d : { role: 'assistant', ...d };
        state.started = true;
        out.push(this.chunk(index, delta, j === deltas.length - 1 ? finish : null));
      }
    }

    const parts: StreamPart[] = out.map((chunk) => ({ chunk }));
    if (usage) {
      const last = parts.at(-1);
      if (last) last.usage = usage;
      else parts.push({ usage });
    }
    return parts;
  }

  end(): StreamPart[] {
    const states = [...this.candidates.values()];
    const complete = this.blocked || (states.length > 0 && states.every((s) => s.finished));
    if (!complete) throw this.streamError('the upstream stream ended before the answer was complete');
    if (!this.clientWantsUsage || !this.usage) return [];
    const chunk: ChatCompletionChunk = {
      id: this.id ?? '',
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage: usageToOpenAI(this.usage),
    };
    return [{ chunk, usage: this.usage }];
  }

  private chunk(index: number, delta: Delta, finish: ChatCompletionChunk['choices'][number]['finish_reason']): ChatCompletionChunk {
    return {
      id: this.id ?? '',
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index, delta, finish_reason: finish }],
    };
  }

  private streamError(what: string): LlmopsError {
    return new LlmopsError('upstream_stream_error', `${this.provider}: ${what}`, { provider: this.provider });
  }
}
