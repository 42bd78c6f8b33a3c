import { describe, expect, it } from 'vitest';
import { runBackendSuite, sampleEntry } from '../backend.case.js';
import { entrySize } from '../entry.js';
import { MemoryCacheBackend } from './memory-backend.js';

runBackendSuite('memory', { make: async () => new MemoryCacheBackend({ maxEntries: 1000, maxBytes: 1 << 24 }) });

describe('memory backend bounds', () => {
  it('evicts the least recently used entry past max_entries', async () => {
    const b = new MemoryCacheBackend({ maxEntries: 2, maxBytes: 1 << 24 });
    await b.set('a', sampleEntry(), 60_000);
    await b.set('b', sampleEntry(), 60_000);
    b.get('a'); // a is now the most recently used
    await b.set('c', sampleEntry(), 60_000);
    expect(b.get('b')).toBeUndefined();
    expect(b.get('a')).toBeDefined();
    expect(b.get('c')).toBeDefined();
    expect(b.evictions).toBe(1);
  });

  it('stays under max_bytes and refuses an entry larger than the bound', async () => {
    const one = entrySize(sampleEntry());
    const b = new MemoryCacheBackend({ maxEntries: 1000, maxBytes: one * 3 });
    for (const k of ['a', 'b', 'c', 'd', 'e']) await b.set(k, sampleEntry(), 60_000);
    expect(b.size).toBe(3);
    expect(b.get('a')).toBeUndefined();
    await b.set('huge', sampleEntry('x'.repeat(one * 3)), 60_000);
    expect(b.get('huge')).toBeUndefined();
    expect(b.size).toBe(3);
  });

  it('answers synchronously (a hit costs no extra tick)', async () => {
    const b = new MemoryCacheBackend({ maxEntries: 10, maxBytes: 1 << 20 });
    await b.set('k', sampleEntry(), 60_000);
    expect(b.get('k')).not.toBeInstanceOf(Promise);
  });
});
