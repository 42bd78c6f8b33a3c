/**
 * The shared suite every exact-cache backend runs (memory, Redis): what a backend must
 * keep true whatever it stores entries in.
 */
import { describe, expect, it } from 'vitest';
import type { CacheBackend } from './backend.js';
import { makeEntry, type CacheEntry } from './entry.js';

export interface BackendCase {
  /** A fresh, empty backend. */
  make(): Promise<CacheBackend>;
  /** A second backend over the same storage (another instance), when the backend is shared. */
  sibling?(of: CacheBackend): Promise<CacheBackend>;
}

export function sampleEntry(text = 'Hello from the cache.'): CacheEntry {
  const completion = {
    id: 'chatcmpl-abc123',
    object: 'chat.completion' as const,
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant' as const, content: text }, finish_reason: 'stop' as const }],
  };
  // Pretty-printed on purpose: the body is stored byte for byte, newlines included.
  const body = JSON.stringify(completion, null, 2);
  return makeEntry(body, completion, {
    usage: { inputTokens: 12, outputTokens: 7, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
    provider: 'openai',
    model: 'gpt-4o-mini',
    createdAt: 1_700_000_000_000,
    finishReason: 'stop',
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function runBackendSuite(name: string, c: BackendCase): void {
  describe(`cache backend: ${name}`, () => {
    it('answers undefined for a key never set', async () => {
      const b = await c.make();
      expect(await b.get('nope')).toBeUndefined();
    });

    it('gives back exactly what was stored', async () => {
      const b = await c.make();
      const e = sampleEntry('Ünïcödé ✓ and a\nnewline');
      await b.set('k1', e, 60_000);
      const got = await b.get('k1');
      expect(got).toEqual(e);
      expect(got!.body.slice(got!.idStart, got!.idEnd)).toBe('chatcmpl-abc123');
    });

    it('keeps keys apart and overwrites on a second set', async () => {
      const b = await c.make();
      await b.set('a', sampleEntry('A'), 60_000);
      await b.set('b', sampleEntry('B'), 60_000);
      await b.set('a', sampleEntry('A2'), 60_000);
      expect((await b.get('a'))!.body).toContain('A2');
      expect((await b.get('b'))!.body).toContain('"B"');
    });

    it('forgets an entry after its TTL', async () => {
      const b = await c.make();
      await b.set('short', sampleEntry(), 80);
      await b.set('long', sampleEntry(), 60_000);
      expect(await b.get('short')).toBeDefined();
      await sleep(200);
      expect(await b.get('short')).toBeUndefined();
      expect(await b.get('long')).toBeDefined();
    });

    it('deletes one entry, and clears all', async () => {
      const b = await c.make();
      await b.set('x', sampleEntry(), 60_000);
      await b.set('y', sampleEntry(), 60_000);
      await b.delete('x');
      expect(await b.get('x')).toBeUndefined();
      expect(await b.get('y')).toBeDefined();
      await b.clear();
      expect(await b.get('y')).toBeUndefined();
    });

    if (c.sibling) {
      it('is shared by every instance on the same storage', async () => {
        const b = await c.make();
        const other = await c.sibling!(b);
        await b.set('shared', sampleEntry('from one'), 60_000);
        expect((await other.get('shared'))!.body).toContain('from one');
      });
    }
  });
}
