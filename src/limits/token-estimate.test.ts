import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../canonical.js';
import { countChatInputTokens } from '../token-counter.js';
import { chatInputTokens, EXACT_COUNT_MAX_CHARS } from './token-estimate.js';

const req = (content: string): ChatRequest => ({ model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content }] }) as ChatRequest;

describe('input tokens for reservations', () => {
  it('counts ordinary prompts exactly', () => {
    const r = req('What is the capital of France?');
    expect(chatInputTokens(r)).toBe(countChatInputTokens(r));
  });

  it('estimates very long prompts from their bytes, not under the real count for prose, code or CJK', () => {
    for (const unit of ['The quick brown fox jumps over the lazy dog. ', 'const x = await fetch(url, { method: "POST" });\n', '東京は日本の首都です。']) {
      const r = req(unit.repeat(Math.ceil((EXACT_COUNT_MAX_CHARS * 2) / unit.length)));
      const exact = countChatInputTokens(r);
      const est = chatInputTokens(r);
      expect(est).toBeGreaterThanOrEqual(exact * 0.9);
      expect(est).toBeLessThan(exact * 3);
    }
  });
});
