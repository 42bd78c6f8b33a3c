/**
 * Cache keys: a stable SHA-256 over the fields of a request that change the answer,
 * namespaced by tenant, so two callers only ever share an answer when they are the same
 * tenant asking the same thing. Field order in the client's JSON does not matter; fields
 * that do not change the answer (`stream`, `user`, `metadata`, ...) are left out.
 */
// One-shot `hash` (Node >= 20.12): no Hash object per call, about 2.5x faster for short inputs.
import { hash } from 'node:crypto';

/** Top-level request fields that do not change the answer. Everything else is part of the key. */
const NOT_OUTPUT: ReadonlySet<string> = new Set([
  'stream',
  'stream_options',
  'user',
  'metadata',
  'store',
  'service_tier',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
]);

/**
 * JSON with object keys sorted at every level, so equal values give equal text.
 *
 * @example
 * stableJson({ b: 1, a: [{ d: 2, c: 3 }] }) // '{"a":[{"c":3,"d":2}],"b":1}'
 */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + stableJson(value[i]);
    return out + ']';
  }
  const obj = value as Record<string, unknown>;
  const keys = sortInPlace(Object.keys(obj));
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    if (v === undefined) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + stableJson(v);
    first = false;
  }
  return out + '}';
}

/**
 * Sorts a few strings in place by insertion (objects in requests have a handful of keys):
 * unlike Array.prototype.sort, it allocates nothing, and this runs for every object of every
 * cacheable request. Longer arrays use the built-in sort.
 */
function sortInPlace(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** The request body without the fields that do not change the answer (and without `omit`). */
export function outputFields(body: Record<string, unknown>, omit?: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(body)) {
    if (NOT_OUTPUT.has(k) || omit?.has(k)) continue;
    const v = body[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  return out;
}

export function sha256(text: string): string {
  return hash('sha256', text, 'base64url');
}

/**
 * The exact-cache key of one request: tenant, inbound wire format (answers are stored in
 * that format's bytes) and the output-affecting fields.
 */
export function exactKey(tenant: string, format: string, body: Record<string, unknown>): string {
  return sha256(`${tenant}\n${format}\n${stableJson(outputFields(body))}`);
}
