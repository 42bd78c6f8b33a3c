import { describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import type { StreamPart } from '../types.js';
import { GeminiStreamDecoder } from './stream-decoder.js';

const meta = { modelVersion: 'gemini-2.5-flash', responseId: 'r-1' };

function ev(payload: unknown): { event: undefined; data: string } {
  return { event: undefined, data: JSON.stringify(payload) };
}

function run(events: unknown[], wantsUsage = false): StreamPart[] {
  const d = new GeminiStreamDecoder('gemini', 'gemini-2.5-flash', wantsUsage);
  return [...events.flatMap((e) => d.event(ev(e))), ...d.end()];
}

function chunks(parts: StreamPart[]): ChatCompletionChunk[] {
  return parts.flatMap((p) => (p.chunk ? [p.chunk] : []));
}

function failure(fn: () => unknown): LlmopsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LlmopsError);
    return err as LlmopsError;
  }
  throw new Error('expected a throw');
}

describe('GeminiStreamDecoder', () => {
  it('streams text deltas with the role first, the finish on the last chunk, and the last usage', () => {
    const parts = run([
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }], usageMetadata: { promptTokenCount: 8, totalTokenCount: 8 }, ...meta },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'pondering', thought: true }] }, index: 0 }], ...meta },
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'lo.' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 2, thoughtsTokenCount: 5, totalTokenCount: 15 },
        ...meta,
      },
    ]);
    const cs = chunks(parts);
    expect(cs.map((c) => c.choices[0]?.delta)).toEqual([{ role: 'assistant', content: 'Hel' }, { content: 'lo.' }]);
    expect(cs.map((c) => c.choices[0]?.finish_reason)).toEqual([null, 'stop']);
    for (const c of cs) expect(c).toMatchObject({ id: 'r-1', object: 'chat.completion.chunk', model: 'gemini-2.5-flash' });
    expect(parts.filter((p) => p.usage).at(-1)?.usage).toEqual({
      inputTokens: 8,
      outputTokens: 7,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 5,
      estimated: false,
    });
    // The client did not ask for usage: no usage-only chunk.
    expect(cs.some((c) => c.usage)).toBe(false);
  });

  it('ends with a usage-only chunk when the client asked for include_usage', () => {
    const parts = run(
      [{ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, cachedContentTokenCount: 2 }, ...meta }],
      true,
    );
    const last = chunks(parts).at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, prompt_tokens_details: { cached_tokens: 2 } });
  });

  it('emits each whole functionCall as an id+name delta then an arguments delta, finishing with tool_calls', () => {
    const parts = run([
      { candidates: [{ content: { parts: [{ text: 'Let me check.' }] } }], ...meta },
      {
        candidates: [
          {
            content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { id: 'fc-2', name: 'get_time', args: {} } }] },
            finishReason: 'STOP',
          },
        ],
        ...meta,
      },
    ]);
    const cs = chunks(parts);
    const deltas = cs.map((c) => c.choices[0]?.delta);
    expect(deltas[0]).toEqual({ role: 'assistant', content: 'Let me check.' });
    const generated = deltas[1]?.tool_calls?.[0]?.id;
    expect(generated).toMatch(/^call_[0-9a-f]{24}$/);
    expect(deltas.slice(1)).toEqual([
      { tool_calls: [{ index: 0, id: generated, type: 'function', function: { name: 'get_weather', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"city":"Paris"}' } }] },
      { tool_calls: [{ index: 1, id: 'fc-2', type: 'function', function: { name: 'get_time', arguments: '' } }] },
      { tool_calls: [{ index: 1, function: { arguments: '{}' } }] },
    ]);
    expect(cs.map((c) => c.choices[0]?.finish_reason)).toEqual([null, null, null, null, 'tool_calls']);
  });

  it('gives a finish-only event an empty delta, and says a repeated finish once', () => {
    const parts = run([
      { candidates: [{ content: { parts: [{ text: 'cut' }] } }], ...meta },
      { candidates: [{ content: { parts: [{ text: '' }] }, finishReason: 'MAX_TOKENS' }], ...meta },
      { candidates: [{ finishReason: 'MAX_TOKENS' }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1 }, ...meta },
    ]);
    const cs = chunks(parts);
    expect(cs.map((c) => [c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [{ role: 'assistant', content: 'cut' }, null],
      [{}, 'length'],
    ]);
    expect(parts.at(-1)).toEqual({ usage: expect.objectContaining({ inputTokens: 1, outputTokens: 1 }) });
  });

  it('keeps candidates apart (n > 1) and waits for every one to finish', () => {
    const events = [
      { candidates: [{ content: { parts: [{ text: 'A' }] }, index: 0 }, { content: { parts: [{ text: 'B' }] }, index: 1 }], ...meta },
      { candidates: [{ content: { parts: [{ text: '!' }] }, finishReason: 'STOP', index: 0 }], ...meta },
    ];
    expect(failure(() => run(events)).code).toBe('upstream_stream_error');
    const cs = chunks(run([...events, { candidates: [{ finishReason: 'SAFETY', index: 1 }], ...meta }]));
    expect(cs.map((c) => [c.choices[0]?.index, c.choices[0]?.delta, c.choices[0]?.finish_reason])).toEqual([
      [0, { role: 'assistant', content: 'A' }, null],
      [1, { role: 'assistant', content: 'B' }, null],
      [0, { content: '!' }, 'stop'],
      [1, {}, 'content_filter'],
    ]);
  });

  it('answers a blocked prompt with a content_filter refusal', () => {
    const cs = chunks(run([{ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 4 }, ...meta }]));
    expect(cs).toHaveLength(1);
    expect(cs[0]?.choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: null, refusal: 'Gemini blocked the prompt (SAFETY).' },
      finish_reason: 'content_filter',
    });
  });

  it('fails a stream that ends without a finish reason, or without any event (truncation)', () => {
    const err = failure(() => run([{ candidates: [{ content: { parts: [{ text: 'half' }] } }], ...meta }]));
    expect(err.code).toBe('upstream_stream_error');
    expect(err.message).toBe('gemini: the upstream stream ended before the answer was complete');
    expect(failure(() => run([])).code).toBe('upstream_stream_error');
  });

  it('fails on invalid JSON and on an error event, keeping its message', () => {
    const d = new GeminiStreamDecoder('gemini', 'm', false);
    expect(failure(() => d.event({ event: undefined, data: '{"candidates": [' })).code).toBe('upstream_stream_error');
    const e = failure(() => run([{ error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' } }]));
    expect(e.code).toBe('upstream_stream_error');
    expect(e.message).toBe('gemini: An internal error has occurred.');
  });
});
