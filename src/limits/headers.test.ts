import { describe, expect, it } from 'vitest';
import { formatReset } from './headers.js';

describe('x-ratelimit-reset-* durations', () => {
  it('are written the way OpenAI writes them', () => {
    expect(formatReset(0)).toBe('0ms');
    expect(formatReset(20.2)).toBe('21ms');
    expect(formatReset(1000)).toBe('1s');
    expect(formatReset(1500)).toBe('1.5s');
    expect(formatReset(360_000)).toBe('6m0s');
    expect(formatReset(61_250)).toBe('1m1.25s');
  });
});
