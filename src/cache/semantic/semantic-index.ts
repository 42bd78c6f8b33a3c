/**
 * The semantic cache's vector index: bounded, with LRU eviction and lazy expiry, searched
 * by cosine similarity within one scope (model + system prompt + tenant + params).
 *
 * Vectors live in one contiguous Float32Array. Lookups do not scan every entry: each
 * vector is filed under L locality-sensitive hashes (signs of k random projections,
 * "SimHash"), and a query probes its own buckets plus every bucket one bit away
 * (multi-probe LSH), then checks the few candidates with an exact dot product. For a pair
 * at cosine 0.95 one bit agrees with probability 1 − acos(0.95)/π ≈ 0.90, so one table
 * (k = 22 bits, its bucket and the 22 one bit away) finds it with probability ≈ 0.34 and
 * the twelve tables with ≈ 0.993; closer pairs almost surely (cosine 0.98: > 0.99999).
 * Cost per lookup is ~L·k·D multiply-adds plus the candidates, whatever the size.
 * Buckets are intrusive linked lists in typed arrays, and their heads sit in a typed-array
 * hash table ({@link BucketTable}): a full index is a handful of large arrays, not
 * millions of small objects, so it adds nothing to garbage-collection pauses.
 */
import { BucketTable } from './bucket-table.js';
import { mulberry32 } from '../../prng.js';

export interface SemanticIndexOptions {
  dimensions: number;
  maxEntries: number;
  /** Hash tables (L). */
  tables?: number;
  /** Bits per table (k). */
  bits?: number;
  seed?: number;
  now?: () => number;
}

export interface SemanticMatch {
  /** The exact-cache key of the matched answer. */
  key: string;
  similarity: number;
}

const prng = mulberry32;

const NONE = -1;

export class SemanticIndex {
  readonly dimensions: number;
  readonly maxEntries: number;
  private readonly L: number;
  private readonly k: number;
  private readonly planes: Float32Array;
  private readonly now: () => number;

  private capacity = 0;
  private vectors = new Float32Array(0);
  private hashes = new Uint32Array(0);
  private expires = new Float64Array(0);
  private scopeOf = new Int32Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private seen = new Uint32Array(0);
  private stamp = 0;
  private readonly keys: Array<string | undefined> = [];
  private readonly free: number[] = [];
  private used = 0;
  /** LRU list: head is the most recently used slot, tail the least. */
  private head = NONE;
  private tail = NONE;

  private readonly scopes = new Map<string, number>();
  private readonly scopeRefs: number[] = [];
  private readonly scopeNames: string[] = [];
  private readonly freeScopes: number[] = [];
  /** (scope id, table << 24 | hash) → first slot of that bucket's list. */
  private readonly heads = new BucketTable();
  /** Per slot and table: the next and previous slot in the same bucket. */
  private bnext = new Int32Array(0);
  private bprev = new Int32Array(0);
  private readonly margins: Float32Array;
  /** Exact-cache key → slot, so the same answer is never filed twice. */
  private readonly byKey = new Map<string, number>();
  evictions = 0;
  /** Candidates checked with a dot product, over all searches (for benchmarks). */
  candidates = 0;
  private readonly nz: Int32Array;

  constructor(opts: SemanticIndexOptions) {
    this.dimensions = opts.dimensions;
    this.maxEntries = opts.maxEntries;
    this.L = opts.tables ?? 12;
    this.k = opts.bits ?? 22;
    this.now = opts.now ?? Date.now;
    const rnd = prng(opts.seed ?? 0x5eed);
    this.planes = new Float32Array(this.L * this.k * this.dimensions);
    // Gaussian hyperplanes (Box–Muller): sign of projection ≈ angle-preserving hash.
    for (let i = 0; i < this.planes.length; i++) {
      const u = rnd() || 1e-12;
      this.planes[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
    }
    if (this.k > 24 || this.L > 127) throw new Error('semantic index: at most 24 bits and 127 tables');
    this.margins = new Float32Array(this.k);
    this.nz = new Int32Array(this.dimensions);
  }

  get size(): number {
    return this.used;
  }

  /** Files `vector` (unit length) under `scope`, pointing at exact-cache `key`, until `expiresAt`. */
  add(scope: string, vector: Float32Array, key: string, expiresAt: number): void {
    if (vector.length !== this.dimensions) throw new Error(`semantic index: expected ${this.dimensions} dimensions, got ${vector.length}`);
    const existing = this.byKey.get(key);
    if (existing !== undefined) this.remove(existing);
    if (this.used >= this.maxEntries) this.evictOne();
    const slot = this.alloc();
    const D = this.dimensions;
    this.vectors.set(vector, slot * D);
    this.expires[slot] = expiresAt;
    this.keys[slot] = key;
    this.byKey.set(key, slot);
    let sid = this.scopes.get(scope);
    if (sid === undefined) {
      sid = this.freeScopes.pop() ?? this.scopeRefs.length;
      this.scopes.set(scope, sid);
      this.scopeRefs[sid] = 0;
      this.scopeNames[sid] = scope;
    }
    this.scopeRefs[sid]!++;
    this.scopeOf[slot] = sid;
    const L = this.L;
    const nzn = this.nonZero(vector);
    for (let t = 0; t < L; t++) {
      const h = this.hash(vector, this.nz, nzn, t, this.margins);
      this.hashes[slot * L + t] = h;
      const b = (t << 24) | h;
      const head = this.heads.get(sid, b);
      this.bprev[slot * L + t] = NONE;
      this.bnext[slot * L + t] = head;
      if (head !== NONE) this.bprev[head * L + t] = slot;
      this.heads.set(sid, b, slot);
    }
    this.linkFront(slot);
  }

  /** The most similar live entry in `scope` at or above `threshold`, if any. */
  search(scope: string, vector: Float32Array, threshold: number): SemanticMatch | undefined {
    const sid = this.scopes.get(scope);
    if (sid === undefined || vector.length !== this.dimensions) return undefined;
    const D = this.dimensions;
    const vecs = this.vectors;
    const margins = this.margins;
    const L = this.L;
    const bnext = this.bnext;
    const now = this.now();
    if (++this.stamp === 0xffffffff) {
      this.seen.fill(0);
      this.stamp = 1;
    }
    const stamp = this.stamp;
    let best = NONE;
    let bestSim = threshold;
    let expired: number[] | undefined;
    // Hashed-feature vectors are sparse: hash and check candidates over the query's non-zero dimensions only.
    const nz = this.nz;
    const nzn = this.nonZero(vector);
    for (let t = 0; t < this.L; t++) {
      const h = this.hash(vector, nz, nzn, t, margins);
      for (let flip = -1; flip < this.k; flip++) {
        let slot = this.heads.get(sid, (t << 24) | (flip < 0 ? h : h ^ (1 << flip)));
        for (; slot !== NONE; slot = bnext[slot * L + t]!) {
          if (this.seen[slot] === stamp) continue;
          this.seen[slot] = stamp;
          if (this.expires[slot]! <= now) {
            (expired ??= []).push(slot);
            continue;
          }
          let s = 0;
          const off = slot * D;
          for (let j = 0; j < nzn; j++) {
            const d = nz[j]!;
            s += vecs[off + d]! * vector[d]!;
          }
          this.candidates++;
          if (s >= bestSim) {
            bestSim = s;
            best = slot;
          }
        }
      }
    }
    if (expired) for (const slot of expired) this.remove(slot);
    if (best === NONE) return undefined;
    this.unlink(best);
    this.linkFront(best);
    return { key: this.keys[best]!, similarity: Math.min(1, bestSim) };
  }

  /** Forgets the entry pointing at `key` (its answer is gone from the exact cache). */
  forget(key: string): void {
    const slot = this.byKey.get(key);
    if (slot !== undefined) this.remove(slot);
  }

  clear(): void {
    this.heads.clear();
    this.byKey.clear();
    this.scopes.clear();
    this.scopeRefs.length = 0;
    this.scopeNames.length = 0;
    this.freeScopes.length = 0;
    this.free.length = 0;
    this.keys.length = 0;
    this.capacity = 0;
    this.used = 0;
    this.head = this.tail = NONE;
    this.grow(0);
  }

  /** The table's k-bit hash of `v`, over its `nzn` non-zero dimensions listed in `nz`. */
  private hash(v: Float32Array, nz: Int32Array, nzn: number, table: number, margins: Float32Array): number {
    const D = this.dimensions;
    const planes = this.planes;
    let h = 0;
    let off = table * this.k * D;
    for (let b = 0; b < this.k; b++, off += D) {
      let s = 0;
      for (let j = 0; j < nzn; j++) {
        const d = nz[j]!;
        s += planes[off + d]! * v[d]!;
      }
      margins[b] = s;
      if (s > 0) h |= 1 << b;
    }
    return h >>> 0;
  }

  /** Lists the non-zero dimensions of `v` in `this.nz`; returns how many. */
  private nonZero(v: Float32Array): number {
    let n = 0;
    for (let d = 0; d < v.length; d++) if (v[d] !== 0) this.nz[n++] = d;
    return n;
  }

  private alloc(): number {
    const reused = this.free.pop();
    if (reused !== undefined) {
      this.used++;
      return reused;
    }
    if (this.keys.length >= this.capacity) this.grow(Math.min(this.maxEntries, Math.max(1024, this.capacity * 2)));
    this.used++;
    this.keys.push(undefined);
    return this.keys.length - 1;
  }

  private grow(cap: number): void {
    const copy = <T extends Float32Array | Uint32Array | Float64Array | Int32Array>(old: T, make: (n: number) => T, per: number): T => {
      const n = make(cap * per);
      n.set(old.subarray(0, Math.min(old.length, cap * per)));
      return n;
    };
    this.vectors = copy(this.vectors, (n) => new Float32Array(n), this.dimensions);
    this.hashes = copy(this.hashes, (n) => new Uint32Array(n), this.L);
    this.expires = copy(this.expires, (n) => new Float64Array(n), 1);
    this.scopeOf = copy(this.scopeOf, (n) => new Int32Array(n), 1);
    this.prev = copy(this.prev, (n) => new Int32Array(n), 1);
    this.next = copy(this.next, (n) => new Int32Array(n), 1);
    this.seen = copy(this.seen, (n) => new Uint32Array(n), 1);
    this.bnext = copy(this.bnext, (n) => new Int32Array(n), this.L);
    this.bprev = copy(this.bprev, (n) => new Int32Array(n), this.L);
    this.capacity = cap;
  }

  private evictOne(): void {
    // Expired entries at the cold end go first; otherwise the least recently used.
    if (this.tail !== NONE) {
      this.remove(this.tail);
      this.evictions++;
    }
  }

  private remove(slot: number): void {
    const key = this.keys[slot];
    if (key === undefined) return;
    const sid = this.scopeOf[slot]!;
    const L = this.L;
    for (let t = 0; t < L; t++) {
      const p = this.bprev[slot * L + t]!;
      const n = this.bnext[slot * L + t]!;
      if (n !== NONE) this.bprev[n * L + t] = p;
      if (p !== NONE) this.bnext[p * L + t] = n;
      else {
        const b = (t << 24) | this.hashes[slot * L + t]!;
        if (n === NONE) this.heads.delete(sid, b);
        else this.heads.set(sid, b, n);
      }
    }
    if (--this.scopeRefs[sid]! === 0) {
      this.scopes.delete(this.scopeNames[sid]!);
      this.freeScopes.push(sid);
    }
    this.byKey.delete(key);
    this.keys[slot] = undefined;
    this.unlink(slot);
    this.free.push(slot);
    this.used--;
  }

  private linkFront(slot: number): void {
    this.prev[slot] = NONE;
    this.next[slot] = this.head;
    if (this.head !== NONE) this.prev[this.head] = slot;
    this.head = slot;
    if (this.tail === NONE) this.tail = slot;
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p !== NONE) this.next[p] = n;
    else if (this.head === slot) this.head = n;
    if (n !== NONE) this.prev[n] = p;
    else if (this.tail === slot) this.tail = p;
    this.prev[slot] = this.next[slot] = NONE;
  }
}
