/**
 * The trace table's columns in one list, with how each is stored, so every backend
 * writes and reads records the same way (JSON objects as JSON text, booleans as 0/1 in
 * SQLite). Adding a field to {@link TraceRecord} means one entry here and one migration
 * per backend.
 */
import type { TraceRecord } from './types.js';

/** `json`: an object stored as JSON; `json_text`: already JSON text, stored as is and parsed on read. */
export type ColumnKind = 'text' | 'int' | 'real' | 'bool' | 'json' | 'json_text';

export const TRACE_COLUMNS = [
  ['id', 'text'],
  ['trace_id', 'text'],
  ['parent_id', 'text'],
  ['kind', 'text'],
  ['name', 'text'],
  ['source', 'text'],
  ['started_at', 'int'],
  ['endpoint', 'text'],
  ['environment', 'text'],
  ['key_id', 'text'],
  ['user_id', 'text'],
  ['feature', 'text'],
  ['session_id', 'text'],
  ['requested_model', 'text'],
  ['provider', 'text'],
  ['provider_model', 'text'],
  ['prompt_name', 'text'],
  ['prompt_version', 'text'],
  ['prompt_variant', 'text'],
  ['request_params', 'json'],
  ['cache_status', 'text'],
  ['guardrails', 'json'],
  ['capture', 'text'],
  ['input_payload', 'json_text'],
  ['output_payload', 'json_text'],
  ['stream', 'bool'],
  ['status', 'text'],
  ['http_status', 'int'],
  ['error_code', 'text'],
  ['error_message', 'text'],
  ['finish_reason', 'text'],
  ['latency_ms', 'real'],
  ['ttft_ms', 'real'],
  ['input_tokens', 'int'],
  ['output_tokens', 'int'],
  ['cached_tokens', 'int'],
  ['cache_write_tokens', 'int'],
  ['reasoning_tokens', 'int'],
  ['tokens_estimated', 'bool'],
  ['usage', 'json'],
  ['cost_usd', 'real'],
  ['cost', 'json'],
  ['cost_source', 'text'],
  ['attempts', 'json'],
  ['metadata', 'json'],
  ['attributes', 'json'],
] as const satisfies ReadonlyArray<readonly [keyof TraceRecord, ColumnKind]>;

export type TraceColumn = (typeof TRACE_COLUMNS)[number][0];

// Every TraceRecord field has a column (compile-time check).
type Missing = Exclude<keyof TraceRecord, TraceColumn>;
const _allColumns: [Missing] extends [never] ? true : Missing = true;
void _allColumns;

/** A record as one row of SQL parameters, in {@link TRACE_COLUMNS} order. */
export function traceToRow(t: TraceRecord, boolAsInt: boolean): unknown[] {
  const row = new Array<unknown>(TRACE_COLUMNS.length);
  for (let i = 0; i < TRACE_COLUMNS.length; i++) {
    const [name, kind] = TRACE_COLUMNS[i]!;
    const v = t[name];
    if (v === null || v === undefined) row[i] = null;
    else if (kind === 'json' || (kind === 'json_text' && typeof v !== 'string')) row[i] = JSON.stringify(v);
    else if (kind === 'bool' && boolAsInt) row[i] = v ? 1 : 0;
    else row[i] = v;
  }
  return row;
}

/** A stored row back as a record. */
export function rowToTrace(r: Record<string, unknown>): TraceRecord {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of TRACE_COLUMNS) {
    const v = r[name];
    if (v === null || v === undefined) out[name] = kind === 'bool' ? false : null;
    else if (kind === 'json' || kind === 'json_text') out[name] = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
    else if (kind === 'bool') out[name] = v === 1 || v === true;
    else if (kind === 'int' || kind === 'real') out[name] = Number(v);
    else out[name] = v;
  }
  if (out.attempts === null) out.attempts = [];
  return out as unknown as TraceRecord;
}
