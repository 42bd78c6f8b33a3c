/** SQLite schema migrations, applied in order once each; never edit one that has shipped, add a new one. */
export const SQLITE_MIGRATIONS: readonly string[] = [
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
     started_at INTEGER NOT NULL,
     endpoint TEXT NOT NULL,
     key_id TEXT,
     user_id TEXT,
     feature TEXT,
     session_id TEXT,
     requested_model TEXT,
     provider TEXT,
     provider_model TEXT,
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
     cost_usd REAL,
     attempts TEXT NOT NULL,
     metadata TEXT
   );
   CREATE INDEX traces_started_at ON traces (started_at);
   CREATE INDEX traces_trace_id ON traces (trace_id);
   CREATE INDEX traces_key_started ON traces (key_id, started_at);`,
];
