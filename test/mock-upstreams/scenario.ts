/**
 * What a mock upstream should answer, in provider-neutral terms. Each provider's dialect
 * renders a scenario in that provider's real wire format (JSON body, SSE events, error
 * body); the shared server in `server.ts` applies the faults (delays, resets, truncated or
 * malformed streams) the same way for every provider.
 */
export interface MockToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

export interface MockUsage {
  /** Total input tokens, cached ones included. */
  input: number;
  /** Total output tokens, reasoning ones included. */
  output: number;
  cached?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export interface MockScenario {
  text?: string;
  toolCalls?: MockToolCall[];
  /** Texts of further choices (`n` > 1): choice 1, 2, … (OpenAI dialect). */
  moreChoices?: string[];
  finish?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
  usage?: MockUsage;
  /** Leave usage out of the answer (non-stream body and stream alike). */
  omitUsage?: boolean;
  /** Answer with this non-2xx status and the dialect's error body. */
  status?: number;
  errorMessage?: string;
  /** Provider error code/type to put in the error body (e.g. `context_length_exceeded`). */
  errorCode?: string;
  /** `Retry-After` header value on an error answer. */
  retryAfter?: string;
  /** Wait before sending headers. */
  delayMs?: number;
  /** Wait between streamed events. */
  chunkDelayMs?: number;
  /** Destroy the socket without answering. */
  reset?: boolean;
  /** Stream only: cut the connection after this many events, mid-stream. */
  truncateAfterEvents?: number;
  /** A stream goes silent after this many events for `ms`, the connection open, then goes on. */
  stallAfterEvents?: { events: number; ms: number };
  /** Stream only: after this many events, send an event whose data is not valid JSON. */
  malformedAfterEvents?: number;
  /** Stream only: after this many events, start a line and send this many MiB of it without ever ending it. */
  endlessLineAfterEvents?: { events: number; mib: number };
  /** Stream only: after this many events, send the provider's in-stream error event. */
  errorEventAfterEvents?: number;
}

export interface MockEvent {
  event?: string;
  data: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One provider's wire format, as a mock upstream speaks it. */
export interface MockDialect {
  name: string;
  /** Which operation a request is, or undefined for 404. */
  route(method: string, path: string): 'chat' | 'embeddings' | undefined;
  isStream(path: string, body: unknown): boolean;
  /** The JSON body of a successful non-streamed answer. */
  success(s: MockScenario, body: unknown, path: string): unknown;
  /** The SSE events of a successful streamed answer, in order (the terminal event included). */
  streamEvents(s: MockScenario, body: unknown, path: string): MockEvent[];
  /** The provider's in-stream error event. */
  streamErrorEvent(message: string): MockEvent;
  /** The JSON error body for an error status. */
  errorBody(status: number, message: string, code: string | undefined): unknown;
  embeddings?(body: unknown, path: string): unknown;
}

export const DEFAULT_SCENARIO: MockScenario = {
  text: 'Hello from the mock upstream.',
  finish: 'stop',
  usage: { input: 12, output: 7 },
};

/** Splits text into streaming deltas the way models do: small word pieces. */
export function textDeltas(text: string): string[] {
  return text.split(/(?<=\s)/).filter((s) => s.length > 0);
}

/** Splits a tool call's JSON arguments into pieces, as streamed argument deltas arrive. */
export function argumentDeltas(args: string, size = 7): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i += size) out.push(args.slice(i, i + size));
  return out.length > 0 ? out : [''];
}
