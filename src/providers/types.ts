/**
 * The provider contract. A provider turns a canonical request into a call to one upstream
 * and the upstream's answer back into canonical shapes. No web-framework types here.
 *
 * Most providers are a {@link WireAdapter} (pure translation functions) run by the shared
 * HTTP executor in `http-provider.ts`; the offline `demo` provider implements
 * {@link Provider} directly.
 */
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingsRequest, EmbeddingsResponse, Usage } from '../canonical.js';
import type { LlmopsError } from '../errors.js';
import type { SseEvent } from '../sse.js';
import type { AttemptAbort } from '../cancellation.js';

/** The wire formats llmops speaks to clients; a provider's native format may equal one. */
export type WireFormat = 'openai' | 'anthropic';

export interface CallOptions {
  /**
   * The attempt's abort: by the client going away or the attempt's total timeout. Its
   * `signal` is made on first use; `onAbort`, `aborted` and `reason` do without one. The
   * provider calls `abort(reason)` for its time-to-first-byte limit.
   */
  readonly attempt: AttemptAbort;
  /** Longest wait for the upstream's response headers. */
  ttfbTimeoutMs: number;
  /** Longest silence in a streamed answer once its headers came; 0 or absent: none. */
  streamIdleTimeoutMs?: number;
  /**
   * The client's original body when the inbound wire format is the provider's own, so the
   * provider can pass it through losslessly instead of translating the canonical request.
   */
  native?: { format: WireFormat; body: Record<string, unknown> };
}

export interface ChatResult {
  response: ChatCompletion;
  usage: Usage | undefined;
  /**
   * The provider's own response body, when its format is a client wire format; `text` is
   * that body exactly as received, so a client of the same format can get the bytes as is.
   */
  native?: { format: WireFormat; body: unknown; text?: string };
}

/** One step of a streamed answer. */
export interface StreamPart {
  chunk?: ChatCompletionChunk;
  /** Usage, when this event reports it (cumulative: the last one wins). */
  usage?: Usage;
  /** The provider's own event, kept for lossless passthrough to a client of that format. */
  native?: { format: WireFormat; event: string | undefined; data: string };
}

export interface EmbeddingsResult {
  response: EmbeddingsResponse;
  usage: Usage | undefined;
}

export type ProviderType = 'openai' | 'azure-openai' | 'anthropic' | 'gemini' | 'openai-compatible' | 'demo';

export interface Provider {
  /** The name in config (e.g. `openai`, `groq`, `my-vllm`). */
  readonly name: string;
  readonly type: ProviderType;
  chat(req: ChatRequest, model: string, opts: CallOptions): Promise<ChatResult>;
  /** Resolves once the upstream accepted the call; the iterator yields the streamed answer. */
  chatStream(req: ChatRequest, model: string, opts: CallOptions): Promise<AsyncIterator<StreamPart>>;
  embeddings(req: EmbeddingsRequest, model: string, opts: CallOptions): Promise<EmbeddingsResult>;
  /** Stops keep-alive pools; called on shutdown. */
  close?(): Promise<void>;
}

export interface HttpRequestSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Turns one upstream stream into canonical parts; stateful, one per call. */
export interface StreamDecoder {
  event(ev: SseEvent): StreamPart[];
  /** Called when the upstream closed; throws when the stream was not complete. */
  end(): StreamPart[];
}

/** The pure translation half of an HTTP provider. */
export interface WireAdapter {
  chatRequest(req: ChatRequest, model: string, stream: boolean, native: CallOptions['native']): HttpRequestSpec;
  chatResponse(body: unknown, model: string): ChatResult;
  streamDecoder(model: string, req: ChatRequest): StreamDecoder;
  embeddingsRequest?(req: EmbeddingsRequest, model: string): HttpRequestSpec;
  embeddingsResponse?(body: unknown, model: string): EmbeddingsResult;
  /** Maps a non-2xx upstream answer to an error, keeping the provider's message. */
  error(status: number, bodyText: string, headers: Record<string, string | string[] | undefined>): LlmopsError;
}
