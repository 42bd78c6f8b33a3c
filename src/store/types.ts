/**
 * The durable store's contract: keys and traces. One implementation per backend
 * (`store/sqlite/`, later `store/postgres/`), all run through one shared test suite.
 */
import type { KeyLimits } from '../limits/schema.js';
import type { StorableTrace } from './trace-columns.js';

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

/** One guardrail decision on a call (see `guards/policy/decision.ts`); never carries a raw value. */
export interface GuardrailResult {
  guard: string;
  stage: 'input' | 'output';
  /** What the policy says to do when the guard fires: block, mask, flag, retry, fallback. */
  action: string;
  /** What happened: pass, or the action taken. */
  verdict: string;
  score: number | null;
  /** Entity type → count of values masked (or found, when not masking). */
  masked?: Record<string, number>;
  detail?: string;
  ms: number;
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
  /** Extra rights: `read` opens the query API (`/api/*`). null = inference only. */
  roles: string[] | null;
  /** The key's own rate limits and budget (see `limits/schema.ts`); null = config defaults only. */
  limits: KeyLimits | null;
  metadata: Record<string, unknown> | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
  /** After a rotation with a grace period: the hash of the secret before, valid until `previous_valid_until`. */
  previous_key_hash: string | null;
  previous_valid_until: number | null;
}

export interface TraceQuery {
  /** Only traces that started strictly after this (ms), for tailing. */
  since?: number;
  limit: number;
  keyId?: string;
}

/** Filters for {@link Store.searchTraces}; every field optional, all given ones must match. */
export interface TraceFilter {
  /** started_at >= from (ms) */
  from?: number;
  /** started_at < to (ms) */
  to?: number;
  kind?: TraceRecord['kind'];
  model?: string;
  provider?: string;
  keyId?: string;
  user?: string;
  feature?: string;
  session?: string;
  environment?: string;
  status?: TraceRecord['status'];
  errorCode?: string;
  cacheStatus?: string;
  minCostUsd?: number;
  maxCostUsd?: number;
  minLatencyMs?: number;
  maxLatencyMs?: number;
  /** metadata.key = value (string comparison), each pair must match. */
  metadata?: Record<string, string>;
  /** Case-insensitive substring over the tags: user, feature, session, requested model, trace id, name. */
  text?: string;
}

export interface TracePage {
  data: TraceRecord[];
  /** Opaque; pass back to get the next (older) page; null when there is none. */
  next_cursor: string | null;
}

export type GroupBy = 'model' | 'provider' | 'feature' | 'user' | 'key' | 'environment' | 'prompt_version';
export type Bucket = 'minute' | 'hour' | 'day';

export interface MetricsQuery {
  from: number;
  to: number;
  bucket: Bucket;
  /** Without it, one series for everything. */
  groupBy?: GroupBy;
  filter?: Omit<TraceFilter, 'from' | 'to'>;
}

/** One time bucket of one group. Percentiles may be approximate (histogram-based), within 5%. */
export interface MetricsPoint {
  /** Bucket start, ms since epoch (UTC). */
  bucket: number;
  /** The group's value (null for calls without it, or when not grouped). */
  group: string | null;
  requests: number;
  errors: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** Calls whose cost is unknown (no price): counted, never priced as 0. */
  unknown_cost_requests: number;
  latency_p50_ms: number | null;
  latency_p95_ms: number | null;
  latency_p99_ms: number | null;
  ttft_p50_ms: number | null;
  ttft_p95_ms: number | null;
  /** hits / (hits + misses); null when the cache was never consulted. */
  cache_hit_rate: number | null;
  /** Feedback rolled up: per feedback name, count and mean value (booleans as 0/1). */
  feedback: Record<string, { count: number; mean: number }>;
}

export interface CostRow {
  group: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  unknown_cost_requests: number;
}

export interface SubjectSummary {
  id: string;
  requests: number;
  errors: number;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  first_seen: number | null;
  last_seen: number | null;
  models: string[];
}

export interface FeedbackRecord {
  id: string;
  trace_id: string;
  /** The call the feedback is about, when it names one. */
  call_id: string | null;
  name: string;
  /** Numbers as is, booleans (thumbs up/down) as 1/0; null for categories. */
  value_number: number | null;
  /** Category values; null for numbers and booleans. */
  value_string: string | null;
  value_type: 'number' | 'boolean' | 'category';
  comment: string | null;
  source: 'user' | 'reviewer' | 'judge';
  key_id: string | null;
  created_at: number;
}

/** One call in the human review queue (see `guards/review/`). */
export interface ReviewItem {
  id: string;
  trace_id: string;
  call_id: string;
  /** Why it is in the queue: a guard flagged (or blocked) it, or it was sampled at random. */
  reason: 'flagged' | 'blocked' | 'sampled';
  /** The guards that fired, when any. */
  guards: string[] | null;
  model: string | null;
  created_at: number;
  status: 'open' | 'claimed' | 'labeled';
  claimed_by: string | null;
  claimed_at: number | null;
  label: 'good' | 'bad' | null;
  category: string | null;
  note: string | null;
  labeled_by: string | null;
  labeled_at: number | null;
}

export interface ReviewLabel {
  label: 'good' | 'bad';
  category: string | null;
  note: string | null;
  by: string;
  at: number;
}

/** The fields of a key that can change after it was created (its secret and id cannot). */
export type KeyPatch = Partial<Pick<KeyRecord, 'name' | 'models' | 'roles' | 'metadata' | 'expires_at'>>;

/** One administrative action, as the audit log keeps it. */
export interface AuditEvent {
  id: string;
  /** When it happened, ms since the epoch. */
  at: number;
  /** Who did it: `admin` (the admin key), `signal:SIGHUP`, `watch` (the config file changed). */
  actor: string;
  /** What: `key.create`, `key.update`, `key.rotate`, `key.revoke`, `key.limits`, `config.reload`, `config.reload_failed`, `cache.clear`. */
  action: string;
  /** What it was done to: a key id, a config file. */
  target: string | null;
  /** What changed (JSON object): a key's name and models, the sections a reload applied, an error. */
  details: Record<string, unknown> | null;
  /** The client's address, for actions over HTTP. */
  source_ip: string | null;
}

export interface AuditQuery {
  /** Only this action (`key.create`) or family (`key`: every `key.*`). */
  action?: string;
  from?: number;
  to?: number;
  limit: number;
}

/** A trace of a batch the store refused for good (see {@link Store.insertTraces}). */
export interface RejectedTrace {
  /** Position in the batch given. */
  index: number;
  id: string;
  /** The driver's error code (SQLSTATE, `SQLITE_CONSTRAINT_NOTNULL`, …), when it has one. */
  code: string | null;
  message: string;
}

/** What {@link Store.insertTraces} did with a batch. */
export interface InsertResult {
  /** Rows newly stored (a row already stored, e.g. from a retried batch, is not counted again). */
  inserted: number;
  /** Rows refused for a reason retrying cannot fix; every other row of the batch is stored. */
  rejected: RejectedTrace[];
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the tables; safe to call again and from several processes at once. */
  migrate(): Promise<void>;
  /** Resolves when the store answers a trivial query. */
  ping(): Promise<void>;
  /**
   * A number no other gateway sharing this store took recently (1, 2, 3, … in the order
   * they started): the instance part of the call ids it makes (see `ids.ts`).
   */
  claimInstanceNumber(): Promise<number>;
  /**
   * Stores a batch, idempotently (rows already stored are skipped). Throws when the whole
   * batch should be retried later (store unreachable, busy, or an unexpected error: see
   * `classifyStoreError`). A row whose values the database refuses (a constraint, an
   * encoding, a value too large: a "poison" row) does not fail the batch: it is left out
   * and listed in `rejected`, and the rest is stored.
   * @example
   * const { rejected } = await store.writeTraces(batch);
   * if (rejected.length) log.error('traces rejected by the store', { count: rejected.length, first: rejected[0] });
   */
  writeTraces(batch: readonly StorableTrace[]): Promise<InsertResult>;
  /**
   * {@link writeTraces} for callers that want no report (the trace sink's `TraceWriter`):
   * rejected rows are logged and added to {@link rejectedTraces}.
   */
  insertTraces(batch: readonly StorableTrace[]): Promise<void>;
  /** Traces refused by {@link insertTraces} since this store was opened. */
  readonly rejectedTraces: number;
  listTraces(q: TraceQuery): Promise<TraceRecord[]>;
  /** Filtered traces, newest first, with keyset (cursor) pagination. */
  searchTraces(filter: TraceFilter, limit: number, cursor?: string | null): Promise<TracePage>;
  getTrace(id: string): Promise<TraceRecord | undefined>;
  /** Every call and span recorded under one trace id, oldest first. */
  getTraceCalls(traceId: string): Promise<TraceRecord[]>;
  countTraces(): Promise<number>;
  metrics(q: MetricsQuery): Promise<MetricsPoint[]>;
  /** Totals per group over a time range. */
  costs(q: { from: number; to: number; groupBy: GroupBy; filter?: Omit<TraceFilter, 'from' | 'to'> }): Promise<CostRow[]>;
  sessionSummary(sessionId: string): Promise<SubjectSummary | undefined>;
  userSummary(userId: string): Promise<SubjectSummary | undefined>;
  insertFeedback(f: FeedbackRecord): Promise<void>;
  listFeedback(traceId: string): Promise<FeedbackRecord[]>;
  /** Offers calls for human review (idempotent by id). */
  addReviewItems(items: readonly ReviewItem[]): Promise<void>;
  /** Review items by status (`open` by default: oldest first; `all`: newest first). */
  listReviewItems(q: { status?: ReviewItem['status'] | 'all'; limit: number }): Promise<ReviewItem[]>;
  getReviewItem(id: string): Promise<ReviewItem | undefined>;
  /** Claims an open item, or one whose claim is older than `staleMs`; returns the item as it now is (check `claimed_by`). */
  claimReviewItem(id: string, by: string, at: number, staleMs: number): Promise<ReviewItem | undefined>;
  /** Labels an item not labelled yet and not claimed by someone else; returns the item as it now is. */
  labelReviewItem(id: string, label: ReviewLabel): Promise<ReviewItem | undefined>;
  /** Deletes traces (and their feedback) that started before `before`; returns how many. */
  deleteTracesBefore(before: number): Promise<number>;
  /** Appends to the audit log (kept whatever the trace retention). */
  insertAuditEvent(e: AuditEvent): Promise<void>;
  /** Audit events, newest first. */
  listAuditEvents(q: AuditQuery): Promise<AuditEvent[]>;
  createKey(k: KeyRecord): Promise<void>;
  /** The key whose secret (or, within its grace period or not, previous secret) has this hash. */
  findKeyByHash(hash: string): Promise<KeyRecord | undefined>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  listKeys(): Promise<KeyRecord[]>;
  revokeKey(id: string, at: number): Promise<boolean>;
  /** Replaces a key's limits (null clears them); false when there is no such key. */
  updateKeyLimits(id: string, limits: KeyLimits | null): Promise<boolean>;
  /**
   * Gives a key a new secret (its hash and prefix); the old one stays valid until
   * `previousValidUntil` (null: not at all). False when there is no such key.
   */
  rotateKey(id: string, next: { key_hash: string; key_prefix: string; previousValidUntil: number | null }): Promise<boolean>;
  /** Changes a key's name, models, roles, metadata or expiry (fields left out stay); false when there is no such key. */
  updateKey(id: string, patch: KeyPatch): Promise<boolean>;
  /** Records last use times, batched (key id → ms). */
  touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;
  close(): Promise<void>;
}
