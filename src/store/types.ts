/**
 * The durable store's contract: keys and traces. One implementation per backend
 * (`store/sqlite/`, later `store/postgres/`), all run through one shared test suite.
 */

/** One attempt at one target, as kept in a trace. */
export interface AttemptRecord {
  provider: string;
  model: string;
  /** Upstream HTTP status, or null when no answer came (timeout, connection error). */
  status: number | null;
  latency_ms: number;
  error_code?: string;
  error?: string;
}

/** Token usage by part; `cached_input`/`cache_write` are parts of `input`, `reasoning` of `output` (OTel: gen_ai.usage.*). */
export interface UsageDetails {
  input: number;
  output: number;
  cached_input: number;
  cache_write: number;
  reasoning: number;
}

/** Cost in USD by part; `total` is their sum. */
export interface CostDetails {
  input: number;
  cached_input: number;
  cache_write: number;
  output: number;
  total: number;
}

/** One guardrail decision on a call. */
export interface GuardrailResult {
  guard: string;
  result: string;
  score: number | null;
  latency_ms: number;
}

export type CapturePolicy = 'full' | 'metadata' | 'redacted';

/**
 * One recorded call (kind `llm`) or application span (kind `span`, from OTLP ingest).
 * Field names follow the OpenTelemetry GenAI conventions where they exist:
 * `provider` ↔ gen_ai.provider.name, `requested_model` ↔ gen_ai.request.model,
 * `provider_model` ↔ gen_ai.response.model, `usage` ↔ gen_ai.usage.*,
 * `finish_reason` ↔ gen_ai.response.finish_reasons, `request_params` ↔ gen_ai.request.*.
 */
export interface TraceRecord {
  /** Unique per call or span (the span id). */
  id: string;
  /** Groups the calls of one application request (from `x-llmops-trace-id` or `traceparent`, else new). */
  trace_id: string;
  /** The enclosing span, when known (from `traceparent` or OTLP). */
  parent_id: string | null;
  kind: 'llm' | 'span';
  /** Span name (OTLP spans) or the operation, e.g. `chat gpt-4o`. */
  name: string | null;
  source: 'gateway' | 'otlp';
  started_at: number;
  endpoint: 'chat' | 'messages' | 'embeddings' | 'span';
  environment: string | null;
  key_id: string | null;
  user_id: string | null;
  feature: string | null;
  session_id: string | null;
  requested_model: string | null;
  provider: string | null;
  provider_model: string | null;
  prompt_name: string | null;
  prompt_version: string | null;
  prompt_variant: string | null;
  /** temperature, top_p, max_tokens, stop, seed, ... as the caller sent them. */
  request_params: Record<string, unknown> | null;
  /** `hit`, `miss`, `skip` (not consulted). */
  cache_status: string | null;
  guardrails: GuardrailResult[] | null;
  capture: CapturePolicy;
  /**
   * The request as the client sent it, per the capture policy. Written as JSON text
   * (see `traces/capture.ts`); read back parsed.
   */
  input_payload: unknown;
  /** The answer, per the capture policy; as `input_payload`. */
  output_payload: unknown;
  stream: boolean;
  status: 'ok' | 'error';
  http_status: number;
  error_code: string | null;
  error_message: string | null;
  finish_reason: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_tokens: number | null;
  cache_write_tokens: number | null;
  reasoning_tokens: number | null;
  tokens_estimated: boolean;
  usage: UsageDetails | null;
  /** USD; null when the model has no known price (never 0 for unknown). */
  cost_usd: number | null;
  cost: CostDetails | null;
  /** Where the cost came from: the provider's own figure wins over the price table. */
  cost_source: 'provider' | 'price_table' | null;
  attempts: AttemptRecord[];
  metadata: Record<string, unknown> | null;
  /** Other attributes (OTLP span attributes, events). */
  attributes: Record<string, unknown> | null;
}

export interface KeyRecord {
  id: string;
  name: string;
  key_hash: string;
  /** The first characters of the key, safe to show (`sk-llmops-AbC1…`). */
  key_prefix: string;
  /** Public model names or patterns (`openai/*`) this key may use; null = all. */
  models: string[] | null;
  metadata: Record<string, unknown> | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface TraceQuery {
  /** Only traces that started strictly after this (ms), for tailing. */
  since?: number;
  limit: number;
  keyId?: string;
}

export interface Store {
  readonly kind: 'sqlite';
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  insertTraces(batch: readonly TraceRecord[]): Promise<void>;
  listTraces(q: TraceQuery): Promise<TraceRecord[]>;
  getTrace(id: string): Promise<TraceRecord | undefined>;
  /** Every call recorded under one trace id, oldest first. */
  getTraceCalls(traceId: string): Promise<TraceRecord[]>;
  countTraces(): Promise<number>;
  createKey(k: KeyRecord): Promise<void>;
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  listKeys(): Promise<KeyRecord[]>;
  revokeKey(id: string, at: number): Promise<boolean>;
  /** Records last use times, batched (key id → ms). */
  touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;
  close(): Promise<void>;
}
