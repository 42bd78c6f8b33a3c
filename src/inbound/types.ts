/**
 * An inbound wire format: how one API surface (OpenAI chat, OpenAI embeddings, Anthropic
 * messages) parses its requests into canonical ones and renders answers, streams and
 * errors back in its own shape.
 */
import type { ChatRequest, EmbeddingsRequest } from '../canonical.js';
import type { LlmopsError } from '../errors.js';
import type { ChatResult, EmbeddingsResult, StreamPart, WireFormat } from '../providers/types.js';
import type { TraceRecord } from '../store/types.js';

export type ParsedRequest =
  | { kind: 'chat'; request: ChatRequest; stream: boolean; native?: { format: WireFormat; body: Record<string, unknown> } }
  | { kind: 'embeddings'; request: EmbeddingsRequest };

/** Writes one streamed answer in a wire format; stateful, one per response. */
export interface StreamEncoder {
  /** SSE text for one part ('' when the part has nothing for this client). */
  part(p: StreamPart): string;
  /** SSE text that ends a complete stream. */
  end(): string;
  /** SSE text that ends a broken stream with an error event. */
  error(err: LlmopsError): string;
}

export interface InboundFormat {
  readonly name: 'openai-chat' | 'openai-embeddings' | 'anthropic-messages';
  readonly endpoint: TraceRecord['endpoint'];
  /** Validates a JSON body; throws a 400 error naming the bad field. */
  parse(body: unknown): ParsedRequest;
  renderChat(result: ChatResult, requestedModel: string): string;
  renderEmbeddings(result: EmbeddingsResult): string;
  streamEncoder(requestedModel: string): StreamEncoder;
  /** The error body in this format's shape. */
  errorBody(err: LlmopsError): string;
}
