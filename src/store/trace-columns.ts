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

/** The columns kept as JSON: objects serialized on write, parsed on read. */
type JsonColumn = Extract<(typeof TRACE_COLUMNS)[number], readonly [string, 'json' | 'json_text']>[0];

/**
 * A JSON column's value that is already JSON text: the writer thread's records carry their
 * JSON columns this way, so nothing is parsed there only to be serialized again.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** A record as the stores take it: each JSON column as its value or as {@link JsonText}. */
export type StorableTrace = { [K in keyof TraceRecord]: K extends JsonColumn ? TraceRecord[K] | JsonText : TraceRecord[K] };

const SCALAR_COLUMNS = TRACE_COLUMNS.filter(([, kind]) => kind !== 'json' && kind !== 'json_text').map(([name]) => name);
const JSON_COLUMNS = TRACE_COLUMNS.filter(([, kind]) => kind === 'json' || kind === 'json_text');

/**
 * The scalar columns' values in order, by a function made once from the column list: fixed
 * property reads that stay monomorphic, where a loop over names reads megamorphically (this
 * runs on the request thread once per call).
 */
const scalarsOf = new Function('t', `return [${SCALAR_COLUMNS.map((c) => `t.${c} ?? null`).join(', ')}];`) as (t: StorableTrace) => unknown[];
/** The JSON columns' values in order, read the same way. */
const jsonValuesOf = new Function('t', `return [${JSON_COLUMNS.map(([c]) => `t.${c}`).join(', ')}];`) as (t: StorableTrace) => unknown[];
/** The other way: a record of one shape from the scalars and the JSON columns' texts. */
const recordOf = new Function(
  'a',
  'j',
  `return { ${TRACE_COLUMNS.map(([c, kind]) => `${c}: ${kind === 'json' || kind === 'json_text' ? `j[${JSON_COLUMNS.findIndex(([n]) => n === c)}]` : `a[${SCALAR_COLUMNS.indexOf(c)}]`}`).join(', ')} };`,
) as (scalars: unknown[], json: (JsonText | null)[]) => StorableTrace;

/**
 * A trace as one string for the writer thread: its scalar columns as one JSON array, then
 * each JSON column's text after a NUL ('' for null). JSON columns (the payloads above all)
 * are most of a trace's bytes; kept out of the array they are neither escaped here nor
 * unescaped there, and the thread binds them as they are. Valid JSON text never holds a raw
 * NUL, so the separators are unambiguous; a payload that is not valid JSON text and holds
 * one sends the whole record as JSON instead.
 */
export function encodeTrace(t: StorableTrace): string {
  // Joined once into a flat string (appending would make a chain of cons strings that
  // postMessage then has to flatten).
  const parts = new Array<string>(JSON_COLUMNS.length + 1);
  parts[0] = JSON.stringify(scalarsOf(t));
  const values = jsonValuesOf(t);
  for (let i = 0; i < JSON_COLUMNS.length; i++) {
    const v = values[i];
    if (JSON_COLUMNS[i]![1] === 'json_text' && typeof v === 'string') {
      if (v.includes('\u0000') || v === '') return JSON.stringify(t, (_k, x: unknown) => (x instanceof JsonText ? JSON.parse(x.text) : x));
      parts[i + 1] = v;
    } else parts[i + 1] = jsonCell(v) ?? '';
  }
  return parts.join('\u0000');
}

/** The record {@link encodeTrace} sent, its JSON columns as {@link JsonText}. */
export function decodeTrace(s: string): StorableTrace {
  let at = s.indexOf('\u0000');
  if (at < 0) return JSON.parse(s) as TraceRecord;
  const scalars = JSON.parse(s.slice(0, at)) as unknown[];
  const json = new Array<JsonText | null>(JSON_COLUMNS.length);
  for (let i = 0; i < json.length; i++) {
    const next = s.indexOf('\u0000', at + 1);
    const text = next < 0 ? s.slice(at + 1) : s.slice(at + 1, next);
    json[i] = text === '' ? null : new JsonText(text);
    at = next;
  }
  return recordOf(scalars, json);
}

/** A JSON column's parameter: its text as is, else serialized. */
function jsonCell(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof JsonText) return v.text;
  return JSON.stringify(v);
}

/** A `json_text` column's parameter: already text (a payload as received), else serialized. */
function jsonTextCell(v: unknown): string | null {
  return typeof v === 'string' ? v : jsonCell(v);
}

/**
 * Row makers made once from the column list, like {@link scalarsOf}: each column a fixed
 * property read (a loop reading `t[name]` goes megamorphic on the writer thread).
 */
const rowMaker = (boolAsInt: boolean): ((t: StorableTrace) => unknown[]) =>
  new Function(
    'jsonCell',
    'jsonTextCell',
    `return (t) => [${TRACE_COLUMNS.map(([c, kind]) => {
      if (kind === 'json') return `jsonCell(t.${c})`;
      if (kind === 'json_text') return `jsonTextCell(t.${c})`;
      if (kind === 'bool' && boolAsInt) return `(t.${c} === null || t.${c} === undefined ? null : t.${c} ? 1 : 0)`;
      return `t.${c} ?? null`;
    }).join(', ')}];`,
  )(jsonCell, jsonTextCell) as (t: StorableTrace) => unknown[];
const rowWithIntBools = rowMaker(true);
const rowWithBools = rowMaker(false);

/** A record as one row of SQL parameters, in {@link TRACE_COLUMNS} order. */
export function traceToRow(t: StorableTrace, boolAsInt: boolean): unknown[] {
  return boolAsInt ? rowWithIntBools(t) : rowWithBools(t);
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
