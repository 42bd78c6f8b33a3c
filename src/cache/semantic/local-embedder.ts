/**
 * The built-in offline embedder: feature hashing ("the hashing trick") of a text's words,
 * word pairs and character trigrams into a fixed-size vector, L2-normalized. No model
 * file, no network, deterministic and a few microseconds per question. It measures
 * surface similarity (same words, small edits, case, punctuation, word order to a degree),
 * which is what a near-duplicate cache with a high threshold (0.95) needs; it does not
 * know synonyms — configure an embedding model for that.
 */
import { normalize, type Embedder } from './embedder.js';

export const LOCAL_DIMENSIONS = 256;

const WORD = 1;
const PAIR = 0.7;
const TRIGRAM = 0.35;

/** FNV-1a, 32 bits, over UTF-16 code units, with a salt for the feature kind. */
function fnv1a(s: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class LocalEmbedder implements Embedder {
  readonly name = 'local';
  constructor(readonly dimensions = LOCAL_DIMENSIONS) {}

  private add(v: Float32Array, feature: string, salt: number, weight: number): void {
    const h = fnv1a(feature, salt);
    // Signed hashing keeps collisions from always adding up.
    v[h % this.dimensions]! += h & 0x80000000 ? -weight : weight;
  }

  /**
   * @example
   * const e = new LocalEmbedder();
   * dot(e.embed('What is the capital of France?'), e.embed('what is the capital of france')) // ≈ 1
   */
  embed(text: string): Float32Array {
    const v = new Float32Array(this.dimensions);
    const words = text.toLowerCase().normalize('NFKC').split(/[^\p{L}\p{N}]+/u).filter((w) => w.length > 0);
    let prev = '';
    for (const w of words) {
      this.add(v, w, 1, WORD);
      if (prev) this.add(v, `${prev} ${w}`, 2, PAIR);
      prev = w;
      const padded = ` ${w} `;
      for (let i = 0; i + 3 <= padded.length; i++) this.add(v, padded.slice(i, i + 3), 3, TRIGRAM);
    }
    return normalize(v);
  }
}

export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
