/**
 * What the semantic cache needs from an embedder: text in, a unit-length vector out.
 * `local-embedder.ts` works offline; `provider-embedder.ts` calls a configured embedding
 * model through llmops' own providers.
 */
export interface Embedder {
  /** Shown in traces (`llmops.cache.embedder`). */
  readonly name: string;
  /** A unit-length (L2-normalized) vector. */
  embed(text: string): Float32Array | Promise<Float32Array>;
}

/** Scales `v` to unit length in place (a zero vector stays zero). */
export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}
