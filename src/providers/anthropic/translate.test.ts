import { describe, expect, it } from 'vitest';
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import type { StreamPart } from '../types.js';
import {
  AnthropicStreamDecoder,
  AnthropicStreamEncoder,
  fromAnthropicMessage,
  fromAnthropicRequest,
  toAnthropicMessage,
  toAnthropicRequest,
  type AnthropicMessage,
  type AnthropicSseEvent,
  type AnthropicStopReason,
} from './translate.js';

function thrown(fn: () => unknown): LlmopsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LlmopsError);
    return err as LlmopsError;
  }
  throw new Error('expected an error');
}

const WEATHER = {
  type: 'function' as const,
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
};

describe('toAnthropicRequest', () => {
  it('hoists system and developer messages to the top-level system, as blocks when there are several', () => {
    const one = toAnthropicRequest({ model: 'x', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] }, 'claude');
    expect(one).toEqual({ model: 'claude', max_tokens: 4096, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] });

    const two = toAnthropicRequest(
      {
        model: 'x',
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Rule one.' }] },
          { role: 'user', content: 'Hi' },
          { role: 'developer', content: 'Rule two.' },
        ],
      },
      'claude',
    );
    expect(two.system).toEqual([
      { type: 'text', text: 'Rule one.' },
      { type: 'text', text: 'Rule two.' },
    ]);
    expect(two.messages).toEqual([{ role: 'user', content: 'Hi' }]);
  });

  it('merges consecutive tool results (and a following user message) into one user turn', () => {
    const req: ChatRequest = {
      model: 'x',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '18C' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
        { role: 'user', content: 'Which is warmer?' },
        { role: 'user', content: 'Answer in one word.' },
      ],
      tools: [WEATHER],
    };
    const out = toAnthropicRequest(req, 'claude');
    expect(out.messages).toEqual([
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: { city: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '18C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: '24C' }] },
          { type: 'text', text: 'Which is warmer?' },
          { type: 'text', text: 'Answer in one word.' },
        ],
      },
    ]);
  });

  it('turns data: URLs into base64 image sources and http(s) URLs into url sources', () => {
    const out = toAnthropicRequest(
      {
        model: 'x',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
              { type: 'text', text: 'Compare.' },
            ],
          },
        ],
      },
      'claude',
    );
    expect(out.messages[0]?.content).toEqual([
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'text', text: 'Compare.' },
    ]);
  });

  it('rejects image URLs Anthropic cannot take, naming the field', () => {
    const notBase64 = thrown(() =>
      toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,<svg/>' } }] }] }, 'c'),
    );
    expect(notBase64.code).toBe('invalid_request');
    expect(notBase64.param).toBe('messages[0].content[0].image_url.url');
    const ftp = thrown(() => toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] }, 'c'));
    expect(ftp.code).toBe('invalid_request');
  });

  it('maps tools, tool_choice and parallel_tool_calls', () => {
    const base: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'hi' }], tools: [WEATHER] };
    expect(toAnthropicRequest(base, 'c').tools).toEqual([
      { name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
    ]);
    expect(toAnthropicRequest(base, 'c').tool_choice).toBeUndefined();
    expect(toAnthropicRequest({ ...base, tool_choice: 'auto' }, 'c').tool_choice).toEqual({ type: 'auto' });
    expect(toAnthropicRequest({ ...base, tool_choice: 'required' }, 'c').tool_choice).toEqual({ type: 'any' });
    expect(toAnthropicRequest({ ...base, tool_choice: 'none' }, 'c').tool_choice).toEqual({ type: 'none' });
    expect(toAnthropicRequest({ ...base, tool_choice: { type: 'function', function: { name: 'get_weather' } } }, 'c').tool_choice).toEqual({
      type: 'tool',
      name: 'get_weather',
    });
    expect(toAnthropicRequest({ ...base, parallel_tool_calls: false }, 'c').tool_choice).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(toAnthropicRequest({ ...base, tool_choice: 'required', parallel_tool_calls: false }, 'c').tool_choice).toEqual({
      type: 'any',
      disable_parallel_tool_use: true,
    });
    // A tool without parameters still gets the object schema Anthropic requires.
    const bare = toAnthropicRequest({ ...base, tools: [{ type: 'function', function: { name: 'now' } }] }, 'c');
    expect(bare.tools).toEqual([{ name: 'now', input_schema: { type: 'object', properties: {} } }]);
    // tool_choice without tools is not sent (Anthropic rejects it).
    expect(toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], tool_choice: 'auto' }, 'c').tool_choice).toBeUndefined();
  });

  it('picks max_tokens from max_completion_tokens, max_tokens, the provider default, then 4096', () => {
    const m: ChatRequest['messages'] = [{ role: 'user', content: 'hi' }];
    expect(toAnthropicRequest({ model: 'x', messages: m, max_completion_tokens: 10, max_tokens: 20 }, 'c').max_tokens).toBe(10);
    expect(toAnthropicRequest({ model: 'x', messages: m, max_tokens: 20 }, 'c', { defaultMaxTokens: 99 }).max_tokens).toBe(20);
    expect(toAnthropicRequest({ model: 'x', messages: m }, 'c', { defaultMaxTokens: 99 }).max_tokens).toBe(99);
    expect(toAnthropicRequest({ model: 'x', messages: m }, 'c').max_tokens).toBe(4096);
  });

  it('maps stop, sampling and user, and leaves out what Anthropic lacks', () => {
    const out = toAnthropicRequest(
      { model: 'x', messages: [{ role: 'user', content: 'hi' }], stop: 'END', temperature: 0, top_p: 0.5, user: 'u-42', seed: 7, presence_penalty: 1 },
      'c',
    );
    expect(out).toEqual({
      model: 'c',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'hi' }],
      stop_sequences: ['END'],
      temperature: 0,
      top_p: 0.5,
      metadata: { user_id: 'u-42' },
    });
  });

  it('asks for JSON in the system prompt for response_format', () => {
    const schema = { type: 'object', properties: { n: { type: 'integer' } } };
    const out = toAnthropicRequest(
      {
        model: 'x',
        messages: [{ role: 'system', content: 'You count.' }, { role: 'user', content: 'hi' }],
        response_format: { type: 'json_schema', json_schema: { name: 'count', schema } },
      },
      'c',
    );
    expect(Array.isArray(out.system)).toBe(true);
    const texts = (out.system as Array<{ text: string }>).map((b) => b.text);
    expect(texts[0]).toBe('You count.');
    expect(texts[1]).toContain('"count"');
    expect(texts[1]).toContain(JSON.stringify(schema));
    const obj = toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_object' } }, 'c');
    expect(obj.system).toMatch(/JSON object/);
  });

  it('accepts empty tool arguments as {} and rejects arguments that are not a JSON object', () => {
    const call = (args: string): ChatRequest => ({
      model: 'x',
      messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'now', arguments: args } }] }],
    });
    expect(toAnthropicRequest(call(''), 'c').messages[0]?.content).toEqual([{ type: 'tool_use', id: 't1', name: 'now', input: {} }]);
    const err = thrown(() => toAnthropicRequest(call('[1,2]'), 'c'));
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('messages[0].tool_calls[0].function.arguments');
    expect(thrown(() => toAnthropicRequest(call('{oops'), 'c')).code).toBe('invalid_request');
  });

  it('refuses n > 1 and content parts it cannot send', () => {
    expect(thrown(() => toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], n: 2 }, 'c')).code).toBe('unsupported_parameter');
    const audio = { type: 'input_audio', input_audio: { data: 'AAA', format: 'wav' } } as unknown as { type: 'text'; text: string };
    const err = thrown(() => toAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: [audio] }] }, 'c'));
    expect(err.code).toBe('unsupported_parameter');
    expect(err.param).toBe('messages[0].content[0].type');
  });
});

function message(over: Partial<AnthropicMessage>): AnthropicMessage {
  return {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5 },
    ...over,
  };
}

describe('fromAnthropicMessage', () => {
  it('joins text blocks, drops thinking, and turns tool_use into tool calls with JSON arguments', () => {
    const { response } = fromAnthropicMessage(
      message({
        content: [
          { type: 'thinking', thinking: 'Let me think.', signature: 'sig' },
          { type: 'text', text: 'Checking ' },
          { type: 'text', text: 'the weather.' },
          { type: 'tool_use', id: 'toolu_9', name: 'get_weather', input: { city: 'Paris', days: [1, 2] } },
        ],
        stop_reason: 'tool_use',
      }),
    );
    expect(response.id).toBe('msg_01');
    expect(response.model).toBe('claude-sonnet-4-5');
    expect(response.choices[0]).toEqual({
      index: 0,
      message: {
        role: 'assistant',
        content: 'Checking the weather.',
        tool_calls: [{ id: 'toolu_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","days":[1,2]}' } }],
        refusal: null,
      },
      finish_reason: 'tool_calls',
      logprobs: null,
    });
  });

  it('gives null content for a tool-only answer', () => {
    const { response } = fromAnthropicMessage(message({ content: [{ type: 'tool_use', id: 't', name: 'now', input: {} }], stop_reason: 'tool_use' }));
    expect(response.choices[0]?.message.content).toBeNull();
    expect(response.choices[0]?.message.tool_calls?.[0]?.function.arguments).toBe('{}');
  });

  it.each<[AnthropicStopReason | null, string | null]>([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['pause_turn', 'stop'],
    ['max_tokens', 'length'],
    ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    [null, null],
  ])('maps stop_reason %s to finish_reason %s', (stop, finish) => {
    expect(fromAnthropicMessage(message({ stop_reason: stop })).response.choices[0]?.finish_reason).toBe(finish);
  });

  it('counts cache reads and writes into input tokens', () => {
    const { usage, response } = fromAnthropicMessage(
      message({ usage: { input_tokens: 100, cache_read_input_tokens: 50, cache_creation_input_tokens: 25, output_tokens: 40 } }),
    );
    expect(usage).toEqual({ inputTokens: 175, outputTokens: 40, cachedInputTokens: 50, cacheWriteTokens: 25, reasoningTokens: 0, estimated: false });
    expect(response.usage).toEqual({ prompt_tokens: 175, completion_tokens: 40, total_tokens: 215, prompt_tokens_details: { cached_tokens: 50 } });
  });

  it('reads thinking tokens as reasoning tokens when reported', () => {
    const { usage } = fromAnthropicMessage(message({ usage: { input_tokens: 1, output_tokens: 90, output_tokens_details: { thinking_tokens: 60 } } }));
    expect(usage?.reasoningTokens).toBe(60);
    expect(usage?.outputTokens).toBe(90);
  });
});

const ev = (data: Record<string, unknown> & { type: string }) => ({ event: data.type, data: JSON.stringify(data) });

const START = ev({
  type: 'message_start',
  message: { ...message({ content: [], stop_reason: null }), usage: { input_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 0, output_tokens: 1 } },
});

function decodeAll(events: Array<{ event: string; data: string }>, wantsUsage = false): StreamPart[] {
  const d = new AnthropicStreamDecoder('anthropic', 'fallback-model', wantsUsage);
  return [...events.flatMap((e) => d.event(e)), ...d.end()];
}

function chunksOf(parts: StreamPart[]): ChatCompletionChunk[] {
  return parts.flatMap((p) => (p.chunk ? [p.chunk] : []));
}

describe('AnthropicStreamDecoder', () => {
  const textStream = [
    START,
    ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    { event: 'ping', data: '{"type": "ping"}' },
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } }),
    ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' world' } }),
    ev({ type: 'content_block_stop', index: 0 }),
    ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } }),
    ev({ type: 'message_stop' }),
  ];

  it('turns a text stream into chunks, keeping every upstream event verbatim', () => {
    const parts = decodeAll(textStream);
    expect(parts).toHaveLength(textStream.length);
    parts.forEach((p, i) => expect(p.native).toEqual({ format: 'anthropic', event: textStream[i]!.event, data: textStream[i]!.data }));
    const cs = chunksOf(parts);
    expect(cs[0]).toMatchObject({ id: 'msg_01', object: 'chat.completion.chunk', model: 'claude-sonnet-4-5', choices: [{ delta: { role: 'assistant', content: '' } }] });
    expect(cs.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hello world');
    expect(cs.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
  });

  it('reports usage from message_start plus the cumulative output of message_delta', () => {
    const parts = decodeAll(textStream);
    const usages = parts.flatMap((p) => (p.usage ? [p.usage] : []));
    expect(usages[0]).toMatchObject({ inputTokens: 50, cachedInputTokens: 30, outputTokens: 1 });
    expect(usages.at(-1)).toEqual({ inputTokens: 50, outputTokens: 12, cachedInputTokens: 30, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false });
  });

  it('takes full counts from a message_delta that carries them (newer API versions)', () => {
    const parts = decodeAll([
      START,
      ev({
        type: 'message_delta',
        delta: { stop_reason: 'max_tokens', stop_sequence: null },
        usage: { input_tokens: 25, cache_read_input_tokens: 30, cache_creation_input_tokens: 5, output_tokens: 7 },
      }),
      ev({ type: 'message_stop' }),
    ]);
    expect(parts.filter((p) => p.usage).at(-1)?.usage).toMatchObject({ inputTokens: 60, cachedInputTokens: 30, cacheWriteTokens: 5, outputTokens: 7 });
    expect(chunksOf(parts).at(-1)?.choices[0]?.finish_reason).toBe('length');
  });

  it('turns tool_use blocks into tool-call deltas with argument pieces', () => {
    const parts = decodeAll([
      START,
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Let me check.' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }),
      ev({ type: 'content_block_stop', index: 1 }),
      ev({ type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'toolu_2', name: 'now', input: {} } }),
      ev({ type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } }),
      ev({ type: 'content_block_stop', index: 2 }),
      ev({ type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 30 } }),
      ev({ type: 'message_stop' }),
    ]);
    const deltas = chunksOf(parts).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas).toEqual([
      { index: 0, id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Paris"}' } },
      { index: 1, id: 'toolu_2', type: 'function', function: { name: 'now', arguments: '' } },
      { index: 1, function: { arguments: '{}' } },
    ]);
    expect(chunksOf(parts).at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('keeps server tool blocks and thinking native-only', () => {
    const parts = decodeAll([
      START,
      ev({ type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Hmm.' } }),
      ev({ type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
      ev({ type: 'content_block_stop', index: 0 }),
      ev({ type: 'content_block_start', index: 1, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }),
      ev({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"query":"x"}' } }),
      ev({ type: 'content_block_stop', index: 1 }),
      ev({ type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } }),
      ev({ type: 'message_stop' }),
    ]);
    expect(parts).toHaveLength(10);
    for (const p of parts) expect(p.native?.format).toBe('anthropic');
    const cs = chunksOf(parts);
    expect(cs.flatMap((c) => c.choices[0]?.delta.tool_calls ?? [])).toEqual([]);
    expect(cs.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('');
  });

  it('adds a usage chunk at the end for an OpenAI client that asked for usage', () => {
    const last = chunksOf(decodeAll(textStream, true)).at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 50, completion_tokens: 12, total_tokens: 62, prompt_tokens_details: { cached_tokens: 30 } });
  });

  it('fails on an error event, keeping its message', () => {
    const d = new AnthropicStreamDecoder('anthropic', 'm', false);
    d.event(START);
    const err = thrown(() => d.event(ev({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })));
    expect(err.code).toBe('upstream_stream_error');
    expect(err.message).toContain('Overloaded');
  });

  it('fails on invalid JSON and on a stream that ends before message_stop', () => {
    const d = new AnthropicStreamDecoder('anthropic', 'm', false);
    expect(thrown(() => d.event({ event: 'message_start', data: '{"type":' })).code).toBe('upstream_stream_error');
    const cut = new AnthropicStreamDecoder('anthropic', 'm', false);
    for (const e of textStream.slice(0, -2)) cut.event(e);
    const err = thrown(() => cut.end());
    expect(err.code).toBe('upstream_stream_error');
    expect(err.message).toContain('message_stop');
  });
});

describe('fromAnthropicRequest', () => {
  it('translates system, blocks, tool results, images and settings into the canonical request', () => {
    const req = fromAnthropicRequest({
      model: 'claude-x',
      max_tokens: 300,
      system: [
        { type: 'text', text: 'You are helpful.' },
        { type: 'text', text: 'Be brief.' },
      ],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 's' },
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'cat' } },
            { type: 'tool_use', id: 'toolu_2', name: 'lookup', input: { q: 'dog' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a cat' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'not found' }], is_error: true },
            { type: 'text', text: 'So?' },
          ],
        },
      ],
      tools: [
        { name: 'lookup', description: 'Looks up', input_schema: { type: 'object', properties: { q: { type: 'string' } } } },
        { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['###'],
      temperature: 0.2,
      top_p: 0.8,
      top_k: 40,
      metadata: { user_id: 'user-7' },
      stream: true,
      thinking: { type: 'enabled', budget_tokens: 1024 },
    });
    expect(req).toEqual({
      model: 'claude-x',
      max_tokens: 300,
      messages: [
        { role: 'system', content: 'You are helpful.\n\nBe brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.jpg' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Let me look.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'lookup', arguments: '{"q":"dog"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'a cat' },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'Error: not found' },
        { role: 'user', content: 'So?' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['###'],
      temperature: 0.2,
      top_p: 0.8,
      user: 'user-7',
      stream: true,
    });
  });

  it('maps each tool_choice and leaves content null for a tool-only assistant turn', () => {
    const base = {
      model: 'm',
      max_tokens: 10,
      messages: [{ role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 't', name: 'f', input: {} }] }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    };
    expect(fromAnthropicRequest({ ...base, tool_choice: { type: 'auto' } }).tool_choice).toBe('auto');
    expect(fromAnthropicRequest({ ...base, tool_choice: { type: 'none' } }).tool_choice).toBe('none');
    expect(fromAnthropicRequest({ ...base, tool_choice: { type: 'tool', name: 'f' } }).tool_choice).toEqual({ type: 'function', function: { name: 'f' } });
    expect(fromAnthropicRequest(base).messages[0]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
    });
  });
});

function completion(over: Partial<ChatCompletion['choices'][number]['message']>, finish: ChatCompletion['choices'][number]['finish_reason']): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...over }, finish_reason: finish }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 40 } },
  };
}

describe('toAnthropicMessage', () => {
  it('renders text and tool calls as blocks, named after the requested model', () => {
    const msg = toAnthropicMessage(
      completion({ content: 'Checking.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, 'tool_calls'),
      undefined,
      'my-model',
    );
    expect(msg).toEqual({
      id: 'msg_chatcmpl-1',
      type: 'message',
      role: 'assistant',
      model: 'my-model',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 60, cache_creation_input_tokens: 0, cache_read_input_tokens: 40, output_tokens: 20 },
    });
  });

  it.each<[ChatCompletion['choices'][number]['finish_reason'], AnthropicStopReason]>([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
  ])('maps finish_reason %s to stop_reason %s', (finish, stop) => {
    expect(toAnthropicMessage(completion({ content: 'x' }, finish), undefined, 'm').stop_reason).toBe(stop);
  });

  it('prefers the settled usage, splitting cache reads and writes out of input_tokens', () => {
    const usage: Usage = { inputTokens: 500, outputTokens: 9, cachedInputTokens: 300, cacheWriteTokens: 100, reasoningTokens: 0, estimated: false };
    expect(toAnthropicMessage(completion({ content: 'x' }, 'stop'), usage, 'm').usage).toEqual({
      input_tokens: 100,
      cache_read_input_tokens: 300,
      cache_creation_input_tokens: 100,
      output_tokens: 9,
    });
  });

  it('gives an empty content list for an empty answer', () => {
    expect(toAnthropicMessage(completion({ content: '' }, 'stop'), undefined, 'm').content).toEqual([]);
  });
});

function chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: ChatCompletionChunk['choices'][number]['finish_reason'] = null): StreamPart {
  return { chunk: { id: 'chatcmpl-9', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }] } };
}

function encodeAll(parts: StreamPart[]): AnthropicSseEvent[] {
  const enc = new AnthropicStreamEncoder('requested-model');
  return [...parts.flatMap((p) => enc.part(p)), ...enc.end()];
}

const USAGE: Usage = { inputTokens: 30, outputTokens: 8, cachedInputTokens: 10, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false };

describe('AnthropicStreamEncoder', () => {
  it('writes a text stream as Anthropic events, usage in message_delta', () => {
    const events = encodeAll([chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hello' }), chunk({ content: ' there' }), chunk({}, 'stop'), { usage: USAGE }]);
    expect(events.map((e) => e.data)).toEqual([
      {
        type: 'message_start',
        message: {
          id: 'msg_chatcmpl-9',
          type: 'message',
          role: 'assistant',
          model: 'requested-model',
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: ' there' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 10, output_tokens: 8 },
      },
      { type: 'message_stop' },
    ]);
    for (const e of events) expect(e.event).toBe(e.data.type);
  });

  it('writes text then tool calls as separate blocks with input_json_delta', () => {
    const events = encodeAll([
      chunk({ role: 'assistant', content: 'On it.' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', type: 'function', function: { name: 'now', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(events.slice(1).map((e) => e.data)).toEqual([
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'On it.' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'call_a', name: 'get_weather', input: {} } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 'call_b', name: 'now', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{}' } },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
      },
      { type: 'message_stop' },
    ]);
  });

  it('still writes a complete message for a stream without chunks', () => {
    expect(encodeAll([{ usage: USAGE }]).map((e) => e.event)).toEqual(['message_start', 'message_delta', 'message_stop']);
  });

  it('round-trips through the decoder: what it writes decodes to the same text, tool calls and usage', () => {
    const events = encodeAll([
      chunk({ role: 'assistant', content: 'Hi. ' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({}, 'tool_calls'),
      { usage: USAGE },
    ]);
    const parts = decodeAll(events.map((e) => ({ event: e.event, data: JSON.stringify(e.data) })));
    const cs = chunksOf(parts);
    expect(cs.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hi. ');
    const args = cs.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((d) => d.function?.arguments ?? '');
    expect(args.join('')).toBe('{"a":1}');
    expect(cs.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(parts.filter((p) => p.usage).at(-1)?.usage).toEqual(USAGE);
  });
});
