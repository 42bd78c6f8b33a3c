import { describe, expect, it } from 'vitest';
import type { ChatMessage, ChatRequest } from '../canonical.js';
import { countChatInputTokens } from '../token-counter.js';
import { trimContext } from './context-trim.js';

const words = (n: number): string => Array.from({ length: n }, (_, i) => `word${i % 10}`).join(' ');
const req = (messages: ChatMessage[]): ChatRequest => ({ model: 'm', messages });

describe('context trimming', () => {
  it('leaves a request under the budget alone', () => {
    expect(trimContext(req([{ role: 'user', content: 'hi' }]), { max_input_tokens: 100, keep_recent: 1 })).toBeUndefined();
  });

  it('keeps the system prompt and the most recent turns, drops the oldest, and counts what it dropped', () => {
    const messages: ChatMessage[] = [{ role: 'system', content: 'You are terse.' }];
    for (let i = 0; i < 10; i++) messages.push({ role: 'user', content: `q${i} ${words(50)}` }, { role: 'assistant', content: `a${i} ${words(50)}` });
    messages.push({ role: 'user', content: 'last question' });
    const r = trimContext(req(messages), { max_input_tokens: 400, keep_recent: 1 })!;
    expect(r.messages[0]).toEqual(messages[0]);
    expect(r.messages.at(-1)).toEqual(messages.at(-1));
    expect(r.messages[1]!.role).toBe('user'); // the kept history starts at a user turn
    expect(r.inputTokensAfter).toBeLessThanOrEqual(400);
    expect(r.inputTokensAfter).toBe(countChatInputTokens(req(r.messages)));
    expect(r.inputTokensBefore).toBe(countChatInputTokens(req(messages)));
    expect(r.droppedMessages).toBe(messages.length - r.messages.length);
    expect(r.droppedTokens).toBe(r.inputTokensBefore - r.inputTokensAfter);
    // What is kept is a contiguous tail of the conversation.
    expect(messages.slice(-(r.messages.length - 1))).toEqual(r.messages.slice(1));
  });

  it('never separates an assistant tool call from its tool results', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: `old ${words(200)}` },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }, { id: 'c2', type: 'function', function: { name: 'g', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: words(60) },
      { role: 'tool', tool_call_id: 'c2', content: words(60) },
      { role: 'user', content: 'and now?' },
    ];
    // Room for the last turn and one tool result, not both: the whole tool exchange goes.
    const r = trimContext(req(messages), { max_input_tokens: 100, keep_recent: 1 })!;
    expect(r.messages.map((m) => m.role)).toEqual(['user']);
    // Room for the whole exchange: it stays whole, and is not cut to start at a user turn below keep_recent.
    const r2 = trimContext(req(messages), { max_input_tokens: 300, keep_recent: 4 })!;
    expect(r2.messages.map((m) => m.role)).toEqual(['assistant', 'tool', 'tool', 'user']);
  });

  it('keeps keep_recent messages even when they alone exceed the budget', () => {
    const messages: ChatMessage[] = [
      { role: 'user', content: words(100) },
      { role: 'assistant', content: words(100) },
      { role: 'user', content: words(100) },
    ];
    const r = trimContext(req(messages), { max_input_tokens: 50, keep_recent: 2 })!;
    expect(r.messages).toEqual(messages.slice(1));
    expect(r.droppedMessages).toBe(1);
  });
});
