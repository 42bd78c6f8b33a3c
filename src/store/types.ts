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

export interface TraceRecord {
  /** Unique per call. */
  id: string;
  /** Groups the calls of one application request (from `x-llmops-trace-id` or `traceparent`, else new). */
  trace_id: string;
  started_at: number;
  endpoint: 'chat' | 'messages' | 'embeddings';
  key_id: string | null;
  user_id: string | null;
  feature: string | null;
  session_id: string | null;
  requested_model: string | null;
  provider: string | null;
  provider_model: string | null;
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
  cost_usd: number | null;
  attempts: AttemptRecord[];
  metadata: Record<string, unknown> | null;
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
