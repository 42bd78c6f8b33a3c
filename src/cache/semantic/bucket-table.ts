/**
 * An open-addressing hash table from a pair of 32-bit integers to one 32-bit integer,
 * all in typed arrays: no per-entry heap objects, so a table with a million entries costs
 * the garbage collector nothing. Linear probing with backward-shift deletion (no
 * tombstones). Used by the semantic index for its LSH buckets.
 */
const EMPTY = -1;

export class BucketTable {
  private cap: number;
  private mask: number;
  private ka: Int32Array;
  private kb: Int32Array;
  private val: Int32Array;
  private count = 0;

  constructor(initial = 1024) {
    this.cap = 1 << Math.ceil(Math.log2(Math.max(16, initial)));
    this.mask = this.cap - 1;
    this.ka = new Int32Array(this.cap);
    this.kb = new Int32Array(this.cap);
    this.val = new Int32Array(this.cap).fill(EMPTY);
  }

  get size(): number {
    return this.count;
  }

  private slot(a: number, b: number): number {
    let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 13;
    return h & this.mask;
  }

  /** The value under (a, b), or -1. */
  get(a: number, b: number): number {
    let i = this.slot(a, b);
    for (;;) {
      const v = this.val[i]!;
      if (v === EMPTY) return EMPTY;
      if (this.ka[i] === a && this.kb[i] === b) return v;
      i = (i + 1) & this.mask;
    }
  }

  /** Sets (a, b) → value (value ≥ 0). */
  set(a: number, b: number, value: number): void {
    if ((this.count + 1) * 2 > this.cap) this.rehash(this.cap * 2);
    let i = this.slot(a, b);
    for (;;) {
      const v = this.val[i]!;
      if (v === EMPTY) {
        this.ka[i] = a;
        this.kb[i] = b;
        this.val[i] = value;
        this.count++;
        return;
      }
      if (this.ka[i] === a && this.kb[i] === b) {
        this.val[i] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  delete(a: number, b: number): void {
    let i = this.slot(a, b);
    for (;;) {
      if (this.val[i] === EMPTY) return;
      if (this.ka[i] === a && this.kb[i] === b) break;
      i = (i + 1) & this.mask;
    }
    this.count--;
    // Backward shift: move later entries of the probe run into the hole when allowed.
    let hole = i;
    let j = (i + 1) & this.mask;
    while (this.val[j] !== EMPTY) {
      const home = this.slot(this.ka[j]!, this.kb[j]!);
      // j's entry may move to `hole` unless its home lies cyclically in (hole, j].
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!between) {
        this.ka[hole] = this.ka[j]!;
        this.kb[hole] = this.kb[j]!;
        this.val[hole] = this.val[j]!;
        hole = j;
      }
      j = (j + 1) & this.mask;
    }
    this.val[hole] = EMPTY;
  }

  clear(): void {
    this.val.fill(EMPTY);
    this.count = 0;
  }

  private rehash(cap: number): void {
    const { ka, kb, val } = this;
    this.cap = cap;
    this.mask = cap - 1;
    this.ka = new Int32Array(cap);
    this.kb = new Int32Array(cap);
    this.val = new Int32Array(cap).fill(EMPTY);
    this.count = 0;
    for (let i = 0; i < val.length; i++) if (val[i] !== EMPTY) this.set(ka[i]!, kb[i]!, val[i]!);
  }
}
