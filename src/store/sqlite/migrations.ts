/**
 * SQLite schema migrations, applied in order once each (in one transaction each); never
 * edit one that has shipped, add a new one. A migration is SQL, or a function for steps
 * SQL cannot do alone (backfills computed in JS).
 */
import type Database from 'better-sqlite3';
import { histBucket } from '../histogram.js';
import { ROLLUP_SOURCE_COLUMNS, type RollupSource } from '../rollup.js';

export type SqliteMigration = string | ((db: Database.Database) => void);

/** Hooks a migration needs from the store (rollup writes live there, with the insert path). */
export interface SqliteMigrationContext {
  addRollups(rows: readonly RollupSource[]): void;
}

export function sqliteMigrations(ctx: SqliteMigrationContext): readonly SqliteMigration[] {
  return [
    `CREATE TABLE keys (
       id TEXT PRIMARY KEY,
       name TEXT NOT NULL,
       key_hash TEXT NOT NULL UNIQUE,
       key_prefix TEXT NOT NULL,
       models TEXT,
       metadata TEXT,
       created_at INTEGER NOT NULL,
       expires_at INTEGER,
       revoked_at INTEGER,
       last_used_at INTEGER
     );
     CREATE TABLE traces (
       id TEXT PRIMARY KEY,
       trace_id TEXT NOT NULL,
       parent_id TEXT,
       kind TEXT NOT NULL,
       name TEXT,
       source TEXT NOT NULL,
       started_at INTEGER NOT NULL,
       endpoint TEXT NOT NULL,
       environment TEXT,
       key_id TEXT,
       user_id TEXT,
       feature TEXT,
       session_id TEXT,
       requested_model TEXT,
       provider TEXT,
       provider_model TEXT,
       prompt_name TEXT,
       prompt_version TEXT,
       prompt_variant TEXT,
       request_params TEXT,
       cache_status TEXT,
       guardrails TEXT,
       capture TEXT NOT NULL,
       input_payload TEXT,
       output_payload TEXT,
       stream INTEGER NOT NULL,
       status TEXT NOT NULL,
       http_status INTEGER NOT NULL,
       error_code TEXT,
       error_message TEXT,
       finish_reason TEXT,
       latency_ms REAL NOT NULL,
       ttft_ms REAL,
       input_tokens INTEGER,
       output_tokens INTEGER,
       cached_tokens INTEGER,
       cache_write_tokens INTEGER,
       reasoning_tokens INTEGER,
       tokens_estimated INTEGER NOT NULL,
       usage TEXT,
       cost_usd REAL,
       cost TEXT,
       cost_source TEXT,
       attempts TEXT NOT NULL,
       metadata TEXT,
       attributes TEXT
     );
     CREATE INDEX traces_started_at ON traces (started_at);
     CREATE INDEX traces_trace_id ON traces (trace_id);
     CREATE INDEX traces_key_started ON traces (key_id, started_at);`,

    // Observability: the hour column and hour-first indexes for every search filter (see
    // trace-query.ts), histogram buckets, feedback and its links to calls, hourly rollups.
    // The traces table is rebuilt because its key changes (id → hour, id).
    (db) => {
      db.exec(`
        CREATE TABLE traces_v2 (
          id TEXT NOT NULL,
          trace_id TEXT NOT NULL,
          parent_id TEXT,
          kind TEXT NOT NULL,
          name TEXT,
          source TEXT NOT NULL,
          started_at INTEGER NOT NULL,
          endpoint TEXT NOT NULL,
          environment TEXT,
          key_id TEXT,
          user_id TEXT,
          feature TEXT,
          session_id TEXT,
          requested_model TEXT,
          provider TEXT,
          provider_model TEXT,
          prompt_name TEXT,
          prompt_version TEXT,
          prompt_variant TEXT,
          request_params TEXT,
          cache_status TEXT,
          guardrails TEXT,
          capture TEXT NOT NULL,
          input_payload TEXT,
          output_payload TEXT,
          stream INTEGER NOT NULL,
          status TEXT NOT NULL,
          http_status INTEGER NOT NULL,
          error_code TEXT,
          error_message TEXT,
          finish_reason TEXT,
          latency_ms REAL NOT NULL,
          ttft_ms REAL,
          input_tokens INTEGER,
          output_tokens INTEGER,
          cached_tokens INTEGER,
          cache_write_tokens INTEGER,
          reasoning_tokens INTEGER,
          tokens_estimated INTEGER NOT NULL,
          usage TEXT,
          cost_usd REAL,
          cost TEXT,
          cost_source TEXT,
          attempts TEXT NOT NULL,
          metadata TEXT,
          attributes TEXT,
          hour INTEGER NOT NULL,
          latency_bucket INTEGER,
          ttft_bucket INTEGER
        );
        INSERT INTO traces_v2 SELECT *, (started_at / 3600000) * 3600000, NULL, NULL FROM traces ORDER BY started_at;
        DROP TABLE traces;
        ALTER TABLE traces_v2 RENAME TO traces;
        CREATE UNIQUE INDEX traces_id ON traces (hour, id);
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
          id TEXT PRIMARY KEY,
          trace_id TEXT NOT NULL,
          call_id TEXT,
          name TEXT NOT NULL,
          value_number REAL,
          value_string TEXT,
          value_type TEXT NOT NULL,
          comment TEXT,
          source TEXT NOT NULL,
          key_id TEXT,
          created_at INTEGER NOT NULL
        );
        CREATE INDEX feedback_trace ON feedback (trace_id, created_at);
        CREATE TABLE feedback_links (
          hour INTEGER NOT NULL,
          call_id TEXT NOT NULL,
          feedback_id TEXT NOT NULL,
          PRIMARY KEY (hour, call_id, feedback_id)
        ) WITHOUT ROWID;
        CREATE INDEX feedback_links_feedback ON feedback_links (feedback_id);

        CREATE TABLE trace_rollups (
          dim TEXT NOT NULL,
          hour INTEGER NOT NULL,
          kind TEXT NOT NULL,
          present INTEGER NOT NULL,
          value TEXT NOT NULL,
          requests INTEGER NOT NULL,
          errors INTEGER NOT NULL,
          input_tokens INTEGER NOT NULL,
          output_tokens INTEGER NOT NULL,
          cached_tokens INTEGER NOT NULL,
          reasoning_tokens INTEGER NOT NULL,
          cost_usd REAL NOT NULL,
          unknown_cost INTEGER NOT NULL,
          cache_hits INTEGER NOT NULL,
          cache_misses INTEGER NOT NULL,
          lat_hist TEXT,
          ttft_hist TEXT,
          PRIMARY KEY (dim, hour, kind, present, value)
        ) WITHOUT ROWID;
      `);
      // Backfill what version 1 stored, in rowid order, a chunk at a time.
      const setBuckets = db.prepare('UPDATE traces SET latency_bucket = ?, ttft_bucket = ? WHERE rowid = ?');
      const read = db.prepare(`SELECT rowid AS rid, ${ROLLUP_SOURCE_COLUMNS.join(', ')} FROM traces WHERE rowid > ? ORDER BY rowid LIMIT 5000`);
      for (let last = 0; ; ) {
        const chunk = read.all(last) as Array<RollupSource & { rid: number }>;
        if (chunk.length === 0) break;
        for (const r of chunk) setBuckets.run(histBucket(r.latency_ms), histBucket(r.ttft_ms), r.rid);
        ctx.addRollups(chunk);
        last = chunk[chunk.length - 1]!.rid;
      }
    },
    'ALTER TABLE keys ADD COLUMN roles TEXT',
    // Per-key rate limits and budget (JSON), set by the admin API.
    'ALTER TABLE keys ADD COLUMN limits TEXT',
    // The human review queue (guardrails): flagged and sampled calls, claimed and labelled.
    `CREATE TABLE review_items (
       id TEXT PRIMARY KEY,
       trace_id TEXT NOT NULL,
       call_id TEXT NOT NULL,
       reason TEXT NOT NULL,
       guards TEXT,
       model TEXT,
       created_at INTEGER NOT NULL,
       status TEXT NOT NULL,
       claimed_by TEXT,
       claimed_at INTEGER,
       label TEXT,
       category TEXT,
       note TEXT,
       labeled_by TEXT,
       labeled_at INTEGER
     );
     CREATE INDEX review_items_status ON review_items (status, created_at);`,
    // Calls without a user, feature or session tag need no entry in those indexes: partial
    // indexes skip them (about 13% less work per insert when the tags are absent). A filter
    // \`x = ?\` implies \`x IS NOT NULL\`, so SQLite still uses them.
    `DROP INDEX traces_user;
     DROP INDEX traces_feature;
     DROP INDEX traces_session;
     CREATE INDEX traces_user ON traces (hour, user_id, started_at, id) WHERE user_id IS NOT NULL;
     CREATE INDEX traces_feature ON traces (hour, feature, started_at, id) WHERE feature IS NOT NULL;
     CREATE INDEX traces_session ON traces (hour, session_id, started_at, id) WHERE session_id IS NOT NULL;`,
    // Named counters; 'instance' numbers the gateways that share the store (call ids, ids.ts).
    `CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
    // The audit log: administrative actions (keys, config reloads, cache clears); never pruned.
    `CREATE TABLE audit_events (
       id TEXT PRIMARY KEY,
       at INTEGER NOT NULL,
       actor TEXT NOT NULL,
       action TEXT NOT NULL,
       target TEXT,
       details TEXT,
       source_ip TEXT
     );
     CREATE INDEX audit_events_at ON audit_events (at, id);`,
    // Key rotation: the secret before, valid for a grace period.
    `ALTER TABLE keys ADD COLUMN previous_key_hash TEXT;
     ALTER TABLE keys ADD COLUMN previous_valid_until INTEGER;
     CREATE INDEX keys_previous_hash ON keys (previous_key_hash) WHERE previous_key_hash IS NOT NULL;`,
  ];
}
