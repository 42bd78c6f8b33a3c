/**
 * PostgreSQL schema migrations, applied in order once each, all under one advisory lock
 * (see `PostgresStore.migrate`); never edit one that has shipped, add a new one.
 * Timestamps are bigint ms since the epoch, JSON is jsonb, money and latency double precision.
 * Lookup indexes start with the trace's hour, as in SQLite (see `trace-query.ts`).
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE keys (
     id text PRIMARY KEY,
     name text NOT NULL,
     key_hash text NOT NULL UNIQUE,
     key_prefix text NOT NULL,
     models jsonb,
     metadata jsonb,
     created_at bigint NOT NULL,
     expires_at bigint,
     revoked_at bigint,
     last_used_at bigint
   );
   CREATE TABLE traces (
     id text NOT NULL,
     trace_id text NOT NULL,
     parent_id text,
     kind text NOT NULL,
     name text,
     source text NOT NULL,
     started_at bigint NOT NULL,
     endpoint text NOT NULL,
     environment text,
     key_id text,
     user_id text,
     feature text,
     session_id text,
     requested_model text,
     provider text,
     provider_model text,
     prompt_name text,
     prompt_version text,
     prompt_variant text,
     request_params jsonb,
     cache_status text,
     guardrails jsonb,
     capture text NOT NULL,
     input_payload jsonb,
     output_payload jsonb,
     stream boolean NOT NULL,
     status text NOT NULL,
     http_status integer NOT NULL,
     error_code text,
     error_message text,
     finish_reason text,
     latency_ms double precision NOT NULL,
     ttft_ms double precision,
     input_tokens integer,
     output_tokens integer,
     cached_tokens integer,
     cache_write_tokens integer,
     reasoning_tokens integer,
     tokens_estimated boolean NOT NULL,
     usage jsonb,
     cost_usd double precision,
     cost jsonb,
     cost_source text,
     attempts jsonb NOT NULL,
     metadata jsonb,
     attributes jsonb,
     hour bigint NOT NULL,
     latency_bucket smallint,
     ttft_bucket smallint,
     PRIMARY KEY (hour, id)
   );
   -- lz4 compresses payloads several times faster than the default pglz (PostgreSQL 14+ built with lz4).
   DO $$ BEGIN
     ALTER TABLE traces ALTER COLUMN input_payload SET COMPRESSION lz4, ALTER COLUMN output_payload SET COMPRESSION lz4;
   EXCEPTION WHEN OTHERS THEN
     RAISE NOTICE 'lz4 is not available: trace payloads keep the default compression';
   END $$;
   CREATE INDEX traces_time ON traces (started_at, id);
   CREATE INDEX traces_trace ON traces (hour, trace_id);
   CREATE INDEX traces_key ON traces (hour, key_id, started_at, id);
   CREATE INDEX traces_user ON traces (hour, user_id, started_at, id);
   CREATE INDEX traces_feature ON traces (hour, feature, started_at, id);
   CREATE INDEX traces_session ON traces (hour, session_id, started_at, id);
   CREATE INDEX traces_model ON traces (hour, requested_model, started_at, id);
   CREATE INDEX traces_provider ON traces (hour, provider, started_at, id);
   CREATE INDEX traces_status ON traces (hour, status, started_at, id);

   CREATE TABLE feedback (
     id text PRIMARY KEY,
     trace_id text NOT NULL,
     call_id text,
     name text NOT NULL,
     value_number double precision,
     value_string text,
     value_type text NOT NULL,
     comment text,
     source text NOT NULL,
     key_id text,
     created_at bigint NOT NULL
   );
   CREATE INDEX feedback_trace ON feedback (trace_id, created_at);
   CREATE TABLE feedback_links (
     hour bigint NOT NULL,
     call_id text NOT NULL,
     feedback_id text NOT NULL,
     PRIMARY KEY (hour, call_id, feedback_id)
   );
   CREATE INDEX feedback_links_feedback ON feedback_links (feedback_id);

   CREATE TABLE trace_rollups (
     dim text NOT NULL,
     hour bigint NOT NULL,
     kind text NOT NULL,
     present smallint NOT NULL,
     value text NOT NULL,
     requests bigint NOT NULL,
     errors bigint NOT NULL,
     input_tokens bigint NOT NULL,
     output_tokens bigint NOT NULL,
     cached_tokens bigint NOT NULL,
     reasoning_tokens bigint NOT NULL,
     cost_usd double precision NOT NULL,
     unknown_cost bigint NOT NULL,
     cache_hits bigint NOT NULL,
     cache_misses bigint NOT NULL,
     lat_hist integer[],
     ttft_hist integer[],
     PRIMARY KEY (dim, hour, kind, present, value)
   ) WITH (fillfactor = 70);

   -- Adds two histograms (counts indexed by bucket) element-wise; used by the rollup upsert.
   CREATE FUNCTION llmops_hist_merge(a integer[], b integer[]) RETURNS integer[]
   LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
     SELECT CASE WHEN a IS NULL THEN b WHEN b IS NULL THEN a
       ELSE ARRAY(SELECT coalesce(x, 0) + coalesce(y, 0) FROM unnest(a, b) AS u(x, y)) END
   $$;`,
  'ALTER TABLE keys ADD COLUMN roles jsonb',
  // Per-key rate limits and budget, set by the admin API.
  'ALTER TABLE keys ADD COLUMN limits jsonb',
  // The human review queue (guardrails): flagged and sampled calls, claimed and labelled.
  `CREATE TABLE review_items (
     id text PRIMARY KEY,
     trace_id text NOT NULL,
     call_id text NOT NULL,
     reason text NOT NULL,
     guards text,
     model text,
     created_at bigint NOT NULL,
     status text NOT NULL,
     claimed_by text,
     claimed_at bigint,
     label text,
     category text,
     note text,
     labeled_by text,
     labeled_at bigint
   );
   CREATE INDEX review_items_status ON review_items (status, created_at);`,
  // Calls without a user, feature or session tag need no entry in those indexes (less work
  // per insert when tags are absent); `x = $1` implies `x IS NOT NULL`, so they still serve.
  `DROP INDEX traces_user;
   DROP INDEX traces_feature;
   DROP INDEX traces_session;
   CREATE INDEX traces_user ON traces (hour, user_id, started_at, id) WHERE user_id IS NOT NULL;
   CREATE INDEX traces_feature ON traces (hour, feature, started_at, id) WHERE feature IS NOT NULL;
   CREATE INDEX traces_session ON traces (hour, session_id, started_at, id) WHERE session_id IS NOT NULL;`,
  // Named counters; 'instance' numbers the gateways that share the store (call ids, ids.ts).
  `CREATE TABLE counters (name text PRIMARY KEY, value bigint NOT NULL)`,
  // The audit log: administrative actions (keys, config reloads, cache clears); never pruned.
  `CREATE TABLE audit_events (
     id text PRIMARY KEY,
     at bigint NOT NULL,
     actor text NOT NULL,
     action text NOT NULL,
     target text,
     details text,
     source_ip text
   );
   CREATE INDEX audit_events_at ON audit_events (at, id);`,
  // Key rotation: the secret before, valid for a grace period.
  `ALTER TABLE keys ADD COLUMN previous_key_hash text;
   ALTER TABLE keys ADD COLUMN previous_valid_until bigint;
   CREATE INDEX keys_previous_hash ON keys (previous_key_hash) WHERE previous_key_hash IS NOT NULL;`,
];
