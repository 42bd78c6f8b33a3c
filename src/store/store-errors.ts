/**
 * What a store failure means for the caller, the same for every backend: `transient`
 * (the database is unreachable, restarting, busy or locked: retry the same work later),
 * `data` (the values of some row are refused: a constraint, an encoding, a value out of
 * range or too large; retrying will never help), or `unknown` (anything else, e.g. a
 * missing table: never treated as a reason to drop data). Also the error the gateway
 * raises when its store cannot be used at start.
 */
import type { RejectedTrace } from './types.js';

export type StoreErrorKind = 'transient' | 'data' | 'unknown';

// PostgreSQL SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const PG_TRANSIENT_CLASSES = new Set(['08', '40', '53', '57', '58']);
const PG_TRANSIENT_CODES = new Set(['55P03', '55006']); // lock_not_available, object_in_use
// 22 data exception (out of range, invalid text/JSON, bad encoding, too long), 23 integrity
// constraint (not null, check, unique), 54 program limit (e.g. an index row too large).
const PG_DATA_CLASSES = new Set(['22', '23', '54']);

// Node's socket errors, and what node-postgres says when it loses or cannot get a connection.
const NODE_TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const NODE_TRANSIENT_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /Client was closed/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

// SQLite result codes (https://sqlite.org/rescode.html): extended codes start with the primary one.
const SQLITE_TRANSIENT = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|NOMEM|PROTOCOL|CANTOPEN|INTERRUPT)/;
const SQLITE_DATA = /^SQLITE_(CONSTRAINT|TOOBIG|MISMATCH)/;

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Classifies an error thrown by a store (or by its driver).
 * @example
 * if (classifyStoreError(err) === 'transient') retryLater(batch);
 */
export function classifyStoreError(err: unknown): StoreErrorKind {
  const code = codeOf(err);
  if (code !== undefined) {
    if (code.startsWith('SQLITE_')) return SQLITE_TRANSIENT.test(code) ? 'transient' : SQLITE_DATA.test(code) ? 'data' : 'unknown';
    if (NODE_TRANSIENT_CODES.has(code)) return 'transient';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const cls = code.slice(0, 2);
      if (PG_TRANSIENT_CLASSES.has(cls) || PG_TRANSIENT_CODES.has(code)) return 'transient';
      if (PG_DATA_CLASSES.has(cls)) return 'data';
      return 'unknown';
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  if (NODE_TRANSIENT_MESSAGES.some((re) => re.test(message))) return 'transient';
  // A record the driver cannot bind or serialize: better-sqlite3's "can only bind numbers,
  // strings…", JSON.stringify on a BigInt or a cycle.
  if (err instanceof TypeError || err instanceof RangeError) return 'data';
  return 'unknown';
}

/** Why the store could not be used at start. */
export type StoreStartFailure = 'unreachable' | 'migration_failed';

/**
 * The gateway's store is unreachable at start, or its migration failed; `cause` keeps
 * the driver's error. `llmops serve` exits non-zero on it.
 */
export class StoreStartError extends Error {
  readonly code = 'store_start_failed';
  readonly reason: StoreStartFailure;

  constructor(reason: StoreStartFailure, storeKind: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(reason === 'unreachable' ? `the ${storeKind} store is unreachable: ${detail}` : `the ${storeKind} store could not be migrated: ${detail}`, { cause });
    this.name = 'StoreStartError';
    this.reason = reason;
  }
}

/** A row refused by the store, as listed in `InsertResult.rejected`. */
export function rejectedTrace(index: number, t: { id?: unknown } | null | undefined, err: unknown): RejectedTrace {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  return {
    index,
    id: String(t?.id ?? ''),
    code: typeof code === 'string' ? code : null,
    message: err instanceof Error ? err.message : String(err),
  };
}
