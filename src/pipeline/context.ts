/**
 * The typed context one request carries through the pipeline, and the framework-free
 * view of the HTTP exchange that stages use to read the request and write the answer.
 */
import type { Cancellation } from '../cancellation.js';
import type { CacheHit, CacheOutcome } from '../cache/response-cache.js';
import type { ChatRequest, EmbeddingsRequest, Usage } from '../canonical.js';
import type { LlmopsError } from '../errors.js';
import type { GuardrailState } from '../guards/policy/state.js';
import type { InboundFormat } from '../inbound/types.js';
import type { Principal } from '../keys/key-service.js';
import type { ChatResult, EmbeddingsResult, StreamPart, WireFormat } from '../providers/types.js';
import type { Attempted } from '../routing/executor.js';
import type { RoutingDecision } from '../routing/request-plan.js';
import type { Route } from '../routing/router.js';
import type { AttemptRecord, CostDetails } from '../store/types.js';

export type HeaderMap = Record<string, string | string[] | undefined>;

/** The HTTP exchange as stages see it: no web-framework types. */
export interface HttpExchange {
  readonly headers: HeaderMap;
  readonly body: unknown;
  /** The body's JSON text as received, when there was one (with `bodyError`, the text that is not JSON). */
  readonly rawBody: string | undefined;
  /**
   * Why the body is not JSON the gateway takes (malformed, nested too deep): the parse stage
   * answers with it, after authentication, so the call is traced like any other bad request.
   */
  readonly bodyError?: LlmopsError | undefined;
  /** Cancelled when the client disconnects before the answer is complete. */
  readonly cancel: Cancellation;
  readonly headersSent: boolean;
  sendJson(status: number, body: string, headers: Record<string, string>): void;
  startStream(headers: Record<string, string>): void;
  /** Writes stream text; resolves when the socket can take more (backpressure). */
  write(text: string): Promise<void>;
  end(): void;
}

export interface RequestTags {
  user: string | null;
  feature: string | null;
  session: string | null;
  metadata: Record<string, unknown> | null;
}

export type CallResult =
  | { kind: 'chat'; value: ChatResult }
  | { kind: 'embeddings'; value: EmbeddingsResult }
  | { kind: 'stream'; first: IteratorResult<StreamPart>; rest: AsyncIterator<StreamPart>; attempt: Attempted<unknown> }
  /** A cache hit: `respond` writes the stored answer (see `cache/replay.ts`). */
  | { kind: 'cached'; hit: CacheHit };

export interface RequestContext {
  /** Unique id of this call. */
  readonly callId: string;
  /** The trace this call belongs to (client-supplied or new). */
  readonly traceId: string;
  /** The caller's span, from a W3C `traceparent`. */
  readonly parentId: string | null;
  /** Wall-clock start, ms since epoch. */
  readonly startedAt: number;
  /** Monotonic start, from performance.now(). */
  readonly t0: number;
  readonly inbound: InboundFormat;
  readonly http: HttpExchange;
  principal?: Principal;
  tags: RequestTags;
  /** What the client asked for, in canonical form (set by parse). */
  request?: { kind: 'chat'; body: ChatRequest; native?: { format: WireFormat; body: Record<string, unknown> } } | { kind: 'embeddings'; body: EmbeddingsRequest };
  stream: boolean;
  requestedModel: string | null;
  route?: Route;
  /** Per-request routing decisions (cost order, complexity tier, caps, trimming), for the trace. */
  routing?: RoutingDecision;
  attempts: AttemptRecord[];
  /** The provider and upstream model that answered. */
  served?: { provider: string; model: string };
  result?: CallResult;
  usage?: Usage;
  costUsd: number | null;
  cost: CostDetails | null;
  costSource: 'provider' | 'price_table' | null;
  finishReason: string | null;
  ttftMs: number | null;
  /** The answer as the trace keeps it (before the capture policy applies). */
  output?: unknown;
  /** `output` as JSON text, when the upstream's bytes are at hand (saves serializing it again). */
  outputJson?: string;
  /** What the cache stage did (absent when no cache is configured: `skip`). */
  cache?: CacheOutcome;
  error?: LlmopsError;
  httpStatus: number;
  /** Guardrail state of the call (policy, decisions, reversible-mask vault), when a policy applies. */
  guardrails?: GuardrailState;
  /** Extra response headers set by stages (the limits stage's `x-ratelimit-*`); `respond` sends them. */
  responseHeaders?: Record<string, string>;
  /**
   * Run by `record` once the answer is settled (cost known), on success and failure alike:
   * the limits stage reconciles its budget reservation here. They must not throw.
   */
  finalizers?: Array<(ctx: RequestContext) => void>;
}
