import { describe, expect, it } from 'vitest';
import { BucketTable } from './bucket-table.js';
import { dot, LocalEmbedder } from './local-embedder.js';
import { SemanticIndex } from './semantic-index.js';

const e = new LocalEmbedder();

describe('local embedder', () => {
  it('is deterministic, unit length, and offline', () => {
    const a = e.embed('What is the capital of France?');
    expect(a).toEqual(e.embed('What is the capital of France?'));
    expect(dot(a, a)).toBeCloseTo(1, 5);
  });

  it('scores near-duplicates above 0.95 and different questions well below', () => {
    const q = e.embed('What is the capital of France?');
    expect(dot(q, e.embed('what is the capital of france'))).toBeGreaterThan(0.99);
    expect(dot(q, e.embed('What is the capitol of France?'))).toBeGreaterThan(0.75); // a typo: similar, below the default threshold
    expect(dot(q, e.embed('What is the capital of Germany?'))).toBeLessThan(0.95);
    expect(dot(q, e.embed('How do I reset my password?'))).toBeLessThan(0.5);
  });
});

describe('semantic index', () => {
  const now = { t: 1_000 };
  const make = (max = 1000) => new SemanticIndex({ dimensions: e.dimensions, maxEntries: max, now: () => now.t });

  it('finds a near-duplicate in the same scope only', () => {
    const ix = make();
    ix.add('s1', e.embed('What is the capital of France?'), 'k1', 10_000);
    ix.add('s1', e.embed('How do I reset my password?'), 'k2', 10_000);
    const m = ix.search('s1', e.embed('what is the capital of france'), 0.95);
    expect(m?.key).toBe('k1');
    expect(m!.similarity).toBeGreaterThan(0.99);
    expect(ix.search('s2', e.embed('what is the capital of france'), 0.95)).toBeUndefined();
    expect(ix.search('s1', e.embed('What is the capital of Germany?'), 0.95)).toBeUndefined();
  });

  it('drops expired entries and evicts the least recently used past max_entries', () => {
    const ix = make(2);
    ix.add('s', e.embed('alpha question one'), 'a', 5_000);
    ix.add('s', e.embed('beta question two'), 'b', 10_000);
    expect(ix.search('s', e.embed('alpha question one'), 0.95)?.key).toBe('a'); // a used: b is now the coldest
    ix.add('s', e.embed('gamma question three'), 'c', 10_000);
    expect(ix.size).toBe(2);
    expect(ix.search('s', e.embed('beta question two'), 0.95)).toBeUndefined();
    now.t = 6_000;
    expect(ix.search('s', e.embed('alpha question one'), 0.95)).toBeUndefined();
    expect(ix.size).toBe(1);
    expect(ix.search('s', e.embed('gamma question three'), 0.95)?.key).toBe('c');
  });

  it('files one answer once, and forgets it on request', () => {
    const ix = make();
    ix.add('s', e.embed('same question'), 'k', 1e12);
    ix.add('s', e.embed('same question'), 'k', 1e12);
    expect(ix.size).toBe(1);
    ix.forget('k');
    expect(ix.size).toBe(0);
    expect(ix.search('s', e.embed('same question'), 0.9)).toBeUndefined();
  });

  it('stays correct through many adds and evictions (slot and bucket reuse)', () => {
    const ix = make(500);
    for (let i = 0; i < 3000; i++) ix.add(`scope${i % 7}`, e.embed(`question number ${i} about topic ${i * 7919}`), `k${i}`, 1e12);
    expect(ix.size).toBe(500);
    for (let i = 2990; i < 3000; i++) expect(ix.search(`scope${i % 7}`, e.embed(`question number ${i} about topic ${i * 7919}`), 0.99)?.key).toBe(`k${i}`);
    expect(ix.search('scope0', e.embed('question number 7 about topic 55433'), 0.99)).toBeUndefined();
  });
});

describe('bucket table', () => {
  it('matches a Map through random sets and deletes', () => {
    const t = new BucketTable(16);
    const ref = new Map<string, number>();
    let seed = 7;
    const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
    for (let i = 0; i < 20_000; i++) {
      const a = rnd(50);
      const b = rnd(200);
      if (rnd(3) === 0) {
        t.delete(a, b);
        ref.delete(`${a},${b}`);
      } else {
        t.set(a, b, i);
        ref.set(`${a},${b}`, i);
      }
    }
    expect(t.size).toBe(ref.size);
    for (let a = 0; a < 50; a++) for (let b = 0; b < 200; b++) expect(t.get(a, b)).toBe(ref.get(`${a},${b}`) ?? -1);
  });
});
