/**
 * Feature extraction for the injection model: hashed word unigrams and bigrams and character
 * 4-grams of the normalized text (and of its decoded payloads), L2-normalized, followed by a
 * few dense features from the rules. Hashing keeps the model a fixed-size weight array with
 * no vocabulary to ship.
 */
import type { NormalizedText } from './normalize.js';
import { RULE_FAMILIES, type RuleResult } from './rules.js';

/** Dense features after the hashed ones: one per rule family, then the number of obfuscation signals (capped) and "has a decoded payload". */
export const DENSE_FEATURES = [...RULE_FAMILIES.map((f) => `rule_${f}`), 'obfuscation_count', 'has_payload'] as const;

export interface SparseVector {
  indices: Int32Array;
  values: Float32Array;
}

const WORD = /[a-z0-9äöüß]+/g;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Scratch space for one featurization (detectors are synchronous, so one per bit width suffices). */
const scratch = new Map<number, { acc: Float32Array; touched: Int32Array }>();

function scratchFor(bits: number): { acc: Float32Array; touched: Int32Array } {
  let s = scratch.get(bits);
  if (s === undefined) {
    s = { acc: new Float32Array(1 << bits), touched: new Int32Array(1 << bits) };
    scratch.set(bits, s);
  }
  return s;
}

/**
 * Hashed features of a normalized text plus the dense rule features, as a sparse vector over
 * `2^bits + DENSE_FEATURES.length` dimensions.
 *
 * @example
 * const v = featurize(normalize(text), runRules(normalize(text)), 16);
 */
export function featurize(n: NormalizedText, rules: RuleResult, bits: number): SparseVector {
  const size = 1 << bits;
  const mask = size - 1;
  const { acc, touched } = scratchFor(bits);
  let count = 0;
  const texts = n.payloads.length === 0 ? [n.text] : [n.text, ...n.payloads];
  for (const text of texts) {
    let prev = 0x9e3779b9;
    const words = text.match(WORD) ?? [];
    for (const w of words) {
      let h = FNV_OFFSET;
      for (let k = 0; k < w.length; k++) h = Math.imul(h ^ w.charCodeAt(k), FNV_PRIME);
      let i = h & mask;
      if (acc[i] === 0) touched[count++] = i;
      acc[i]! += 1;
      i = (Math.imul(prev ^ (h >>> 7), 0x5bd1e995) ^ 0x2545f491) & mask;
      if (acc[i] === 0) touched[count++] = i;
      acc[i]! += 1;
      prev = h;
    }
    // Character 4-grams over the words joined by single spaces, with spaces at both ends:
    // four 8-bit codes packed in 32 bits, then mixed (one multiply per position).
    const joined = ` ${words.join(' ')} `;
    let packed = 0;
    for (let k = 0; k < joined.length; k++) {
      const c = joined.charCodeAt(k);
      packed = (packed << 8) | ((c ^ (c >>> 8)) & 0xff);
      if (k < 3) continue;
      const h = Math.imul(packed ^ 0x1b873593, 0x9e3779b1);
      const i = (h ^ (h >>> 15)) & mask;
      if (acc[i] === 0) touched[count++] = i;
      acc[i]! += 1;
    }
  }

  let norm = 0;
  for (let k = 0; k < count; k++) {
    const v = Math.log1p(acc[touched[k]!]!);
    norm += v * v;
  }
  norm = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const dense = DENSE_FEATURES.length;
  const indices = new Int32Array(count + dense);
  const values = new Float32Array(count + dense);
  for (let k = 0; k < count; k++) {
    const i = touched[k]!;
    indices[k] = i;
    values[k] = Math.log1p(acc[i]!) * norm;
    acc[i] = 0;
  }
  let d = count;
  for (const family of RULE_FAMILIES) {
    indices[d] = size + (d - count);
    values[d++] = rules.families[family];
  }
  indices[d] = size + (d - count);
  values[d++] = Math.min(n.signals.length, 3) / 3;
  indices[d] = size + (d - count);
  values[d++] = n.payloads.length > 0 ? 1 : 0;
  return { indices, values };
}
