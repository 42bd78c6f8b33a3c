/**
 * OpenAI's Chat Completions and Embeddings wire format. The canonical format is OpenAI's,
 * so requests go out nearly as they came in and answers come back nearly untouched; this
 * adapter is shared by `openai`, `azure-openai` and every `openai-compatible` preset.
 */
import {
  usageFromOpenAI,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
} from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import type { SseEvent } from '../../sse.js';
import type { ChatResult, EmbeddingsResult, HttpRequestSpec, StreamDecoder, StreamPart, WireAdapter } from '../types.js';
import { openAIStyleError } from '../upstream-error.js';

export interface OpenAIAdapterOptions {
  /** Provider name, used in error messages. */
  name: string;
  chatUrl(model: string): string;
  embeddingsUrl(model: string): string;
  headers: Record<string, string>;
  /** Ask for `stream_options.include_usage` upstream (some self-hosted servers reject it). */
  streamUsage: boolean;
}

function badResponse(name: string, what: string): LlmopsError {
  return new LlmopsError('upstream_bad_response', `${name}: ${what}`, { provider: name });
}

/** OpenAI rejects `metadata` unless `store` is set; callers use it for llmops tags. */
function upstreamBody(req: ChatRequest, model: string): Record<string, unknown> {
  const body: Record<string, unknown> = { ...req, model };
  if (body.store !== true) delete body.metadata;
  return body;
}

class OpenAIStreamDecoder implements StreamDecoder {
  private done = false;
  private finished = false;

  constructor(
    private readonly name: string,
    private readonly clientWantsUsage: boolean,
  ) {}

  event(ev: SseEvent): StreamPart[] {
    if (this.done) return [];
    if (ev.data === '[DONE]') {
      this.done = true;
      return [];
    }
    let chunk: ChatCompletionChunk & { error?: { message?: string } };
    try {
      chunk = JSON.parse(ev.data) as typeof chunk;
    } catch {
      throw new LlmopsError('upstream_stream_error', `${this.name}: malformed event in the upstream stream`, {
        provider: this.name,
      });
    }
    if (chunk.error) {
      throw new LlmopsError('upstream_stream_error', `${this.name}: ${chunk.error.message ?? 'error event in stream'}`, {
        provider: this.name,
      });
    }
    if (!Array.isArray(chunk.choices)) throw badResponse(this.name, 'stream chunk without choices');
    for (const c of chunk.choices) if (c.finish_reason) this.finished = true;
    const part: StreamPart = { chunk, native: { format: 'openai', event: undefined, data: ev.data } };
    const usage = usageFromOpenAI(chunk.usage);
    if (usage) {
      part.usage = usage;
      // The usage-only chunk exists because we asked for it: drop it if the client did not.
      if (chunk.choices.length === 0 && !this.clientWantsUsage) {
        delete part.chunk;
        delete part.native;
      }
    }
    return [part];
  }

  end(): StreamPart[] {
    if (!this.done && !this.finished) {
      throw new LlmopsError('upstream_stream_error', `${this.name}: the upstream stream ended before the answer was complete`, {
        provider: this.name,
      });
    }
    return [];
  }
}

export function openAIAdapter(o: OpenAIAdapterOptions): WireAdapter {
  const headers = { 'content-type': 'application/json', ...o.headers };
  return {
    chatRequest(req, model, stream, native): HttpRequestSpec {
      const body = native?.format === 'openai' ? { ...native.body, model } : upstreamBody(req, model);
      if (stream) {
        body.stream = true;
        if (o.streamUsage) body.stream_options = { ...(req.stream_options ?? {}), include_usage: true };
      } else {
        delete body.stream;
        delete body.stream_options;
      }
      return { url: o.chatUrl(model), headers, body: JSON.stringify(body) };
    },

    chatResponse(body, _model): ChatResult {
      const res = body as ChatCompletion;
      if (!res || typeof res !== 'object' || !Array.isArray(res.choices)) {
        throw badResponse(o.name, 'the upstream answer has no choices');
      }
      return { response: res, usage: usageFromOpenAI(res.usage), native: { format: 'openai', body } };
    },

    streamDecoder(_model, req): StreamDecoder {
      return new OpenAIStreamDecoder(o.name, req.stream_options?.include_usage === true);
    },

    embeddingsRequest(req: EmbeddingsRequest, model: string): HttpRequestSpec {
      return { url: o.embeddingsUrl(model), headers, body: JSON.stringify({ ...req, model }) };
    },

    embeddingsResponse(body, _model): EmbeddingsResult {
      const res = body as EmbeddingsResponse;
      if (!res || typeof res !== 'object' || !Array.isArray(res.data)) {
        throw badResponse(o.name, 'the upstream embeddings answer has no data');
      }
      const prompt = res.usage?.prompt_tokens ?? 0;
      return {
        response: res,
        usage: res.usage
          ? { inputTokens: prompt, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false }
          : undefined,
      };
    },

    error(status, bodyText, resHeaders) {
      return openAIStyleError(o.name, status, bodyText, resHeaders);
    },
  };
}
