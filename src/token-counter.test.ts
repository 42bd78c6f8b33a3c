import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { countTokens, TOKEN_RUN_PIECE } from './token-counter.js';

/** The tokenizer itself, uncut: the reference. */
const exact = (createRequire(import.meta.url)('gpt-tokenizer') as { countTokens(text: string): number }).countTokens;

describe('countTokens', () => {
  it('is the tokenizer exactly for text without long unbroken runs', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(200) + '\n\nDone: 42 items, 3.5% off!';
    expect(countTokens(text)).toBe(exact(text));
    expect(countTokens('')).toBe(0);
  });

  it('counts long unbroken runs in pieces, within about one token per piece of the exact count', () => {
    for (const run of ['a'.repeat(3000), '漢字かな交じり文'.repeat(400), 'QUJD'.repeat(900), ' '.repeat(3000), '😀'.repeat(1500)]) {
      const text = `Before the run. ${run} After the run.`;
      const pieces = Math.ceil(run.length / TOKEN_RUN_PIECE);
      expect(Math.abs(countTokens(text) - exact(text))).toBeLessThanOrEqual(pieces + 1);
    }
  });

  it('takes a body-sized unbroken run in linear time (the tokenizer alone: minutes)', () => {
    // 2 MB of one letter: with the pieces, about a hundred milliseconds; uncut, its BPE merges
    // would take hours (400,000 characters took 139 s). The test's own timeout is the bound.
    const n = countTokens('a'.repeat(2_000_000));
    expect(n).toBeGreaterThan(2_000_000 / 16);
    expect(n).toBeLessThan(2_000_000 / 4);
  });
});
