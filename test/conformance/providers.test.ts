/**
 * The provider conformance suite: one set of tests, run against every provider through a
 * local mock upstream speaking that provider's real wire format. Each provider must turn
 * the same scenarios into the same canonical answers, streams, usage and errors.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk, ChatRequest } from '../../src/canonical.js';
import { LlmopsError } from '../../src/errors.js';
import { AttemptAbort } from '../../src/cancellation.js';
import type { CallOptions, Provider, StreamPart } from '../../src/providers/types.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { PROVIDER_CASES } from './cases/index.js';
import type { SuiteRequest } from './provider-case.js';

const REQUESTS: Record<SuiteRequest, ChatRequest> = {
  basic: {
    model: 'ignored',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say hello.' },
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'Again, please.' },
    ],
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 200,
    stop: ['END'],
  },
  tools: {
    model: 'ignored',
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ],
    tool_choice: 'auto',
    max_tokens: 100,
  },
  'tool-result': {
    model: 'ignored',
    messages: [
      { role: 'user', content: 'What is the weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_abc', content: '{"temp_c":18,"sky":"clear"}' },
    ],
    tools: [
      {
        type: 'function',
        function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
      },
    ],
    max_tokens: 100,
  },
  image: {
    model: 'ignored',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in this picture?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' } },
        ],
      },
    ],
    max_tokens: 50,
  },
};

const TOOL_CALL = { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' };

function opts(overrides: Partial<CallOptions> = {}): CallOptions {
  return { attempt: new AttemptAbort(), ttfbTimeoutMs: 5_000, ...overrides };
}

async function collect(it: AsyncIterator<StreamPart>): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
  return out;
}

function chunks(parts: StreamPart[]): ChatCompletionChunk[] {
  return parts.flatMap((p) => (p.chunk ? [p.chunk] : []));
}

function streamedText(parts: StreamPart[]): string {
  return chunks(parts)
    .map((c) => c.choices[0]?.delta.content ?? '')
    .join('');
}

async function rejection(p: Promise<unknown>): Promise<LlmopsError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LlmopsError);
    return err as LlmopsError;
  }
  throw new Error('expected the call to fail');
}

describe.each(PROVIDER_CASES)('provider conformance: $name', (pc) => {
  let mock: MockUpstream;
  let provider: Provider;

  beforeAll(async () => {
    mock = await startMockUpstream(pc.dialect);
    provider = pc.create(mock.url);
  });
  afterAll(async () => {
    await provider.close?.();
    await mock.close();
  });
  beforeEach(() => {
    mock.requests.length = 0;
    mock.setDefault({ text: 'Hello from the mock upstream.', finish: 'stop', usage: { input: 12, output: 7 } });
  });

  it('translates a plain request and answer', async () => {
    mock.enqueue({ text: 'Hi there, friend.', finish: 'stop', usage: { input: 21, output: 5 } });
    const r = await provider.chat(REQUESTS.basic, pc.model, opts());
    expect(r.response.object).toBe('chat.completion');
    expect(r.response.choices[0]?.message.role).toBe('assistant');
    expect(r.response.choices[0]?.message.content).toBe('Hi there, friend.');
    expect(r.response.choices[0]?.finish_reason).toBe('stop');
    expect(r.usage).toMatchObject({ inputTokens: 21, outputTokens: 5, estimated: false });
    expect(r.response.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 5, total_tokens: 26 });
    pc.checkUpstreamRequest('basic', REQUESTS.basic, mock.requests[0]!, false);
  });

  it('keeps cached, cache-write and reasoning token counts as parts of input and output', async () => {
    mock.enqueue({
      text: 'ok',
      usage: {
        input: 1000,
        output: 300,
        ...(pc.supports.cachedTokens ? { cached: 600 } : {}),
        ...(pc.supports.cacheWriteTokens ? { cacheWrite: 100 } : {}),
        ...(pc.supports.reasoningTokens ? { reasoning: 120 } : {}),
      },
    });
    const r = await provider.chat(REQUESTS.basic, pc.model, opts());
    expect(r.usage?.inputTokens).toBe(1000);
    expect(r.usage?.outputTokens).toBe(300);
    if (pc.supports.cachedTokens) {
      expect(r.usage?.cachedInputTokens).toBe(600);
      expect(r.response.usage?.prompt_tokens_details?.cached_tokens).toBe(600);
    }
    if (pc.supports.cacheWriteTokens) expect(r.usage?.cacheWriteTokens).toBe(100);
    if (pc.supports.reasoningTokens) {
      expect(r.usage?.reasoningTokens).toBe(120);
      expect(r.response.usage?.completion_tokens_details?.reasoning_tokens).toBe(120);
    }
  });

  it('maps a length stop to finish_reason "length"', async () => {
    mock.enqueue({ text: 'cut sh', finish: 'length', usage: { input: 5, output: 2 } });
    const r = await provider.chat(REQUESTS.basic, pc.model, opts());
    expect(r.response.choices[0]?.finish_reason).toBe('length');
  });

  it('sends tool definitions and returns tool calls', async () => {
    mock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12 } });
    const r = await provider.chat(REQUESTS.tools, pc.model, opts());
    const msg = r.response.choices[0]?.message;
    expect(r.response.choices[0]?.finish_reason).toBe('tool_calls');
    expect(msg?.tool_calls).toHaveLength(1);
    expect(msg?.tool_calls?.[0]).toMatchObject({ id: TOOL_CALL.id, type: 'function', function: { name: 'get_weather' } });
    expect(JSON.parse(msg!.tool_calls![0]!.function.arguments)).toEqual(JSON.parse(TOOL_CALL.arguments));
    pc.checkUpstreamRequest('tools', REQUESTS.tools, mock.requests[0]!, false);
  });

  it('sends assistant tool calls and tool results back upstream', async () => {
    const r = await provider.chat(REQUESTS['tool-result'], pc.model, opts());
    expect(r.response.choices[0]?.message.content).toBe('Hello from the mock upstream.');
    pc.checkUpstreamRequest('tool-result', REQUESTS['tool-result'], mock.requests[0]!, false);
  });

  it('sends image content parts', async () => {
    await provider.chat(REQUESTS.image, pc.model, opts());
    pc.checkUpstreamRequest('image', REQUESTS.image, mock.requests[0]!, false);
  });

  it('streams text as OpenAI chunks with a final usage', async () => {
    mock.enqueue({ text: 'One two three four five.', finish: 'stop', usage: { input: 9, output: 6 } });
    const parts = await collect(await provider.chatStream({ ...REQUESTS.basic, stream: true }, pc.model, opts()));
    const cs = chunks(parts);
    expect(cs.length).toBeGreaterThan(2);
    for (const c of cs) expect(c.object).toBe('chat.completion.chunk');
    expect(streamedText(parts)).toBe('One two three four five.');
    expect(cs.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['stop']);
    const usage = parts.filter((p) => p.usage).at(-1)?.usage;
    expect(usage).toMatchObject({ inputTokens: 9, outputTokens: 6 });
    pc.checkUpstreamRequest('basic', { ...REQUESTS.basic, stream: true }, mock.requests[0]!, true);
  });

  it('streams tool calls with argument deltas', async () => {
    mock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12 } });
    const parts = await collect(await provider.chatStream({ ...REQUESTS.tools, stream: true }, pc.model, opts()));
    const deltas = chunks(parts).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas.length).toBeGreaterThan(1);
    const first = deltas.find((d) => d.id);
    expect(first).toMatchObject({ index: 0, id: TOOL_CALL.id, type: 'function', function: { name: 'get_weather' } });
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual(JSON.parse(TOOL_CALL.arguments));
    expect(chunks(parts).map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
  });

  it('maps 429 to upstream_rate_limited and keeps Retry-After and the message', async () => {
    mock.enqueue({ status: 429, retryAfter: '7', errorMessage: 'Rate limit reached for requests' });
    const err = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(err.code).toBe('upstream_rate_limited');
    expect(err.status).toBe(429);
    expect(err.upstreamStatus).toBe(429);
    expect(err.retryAfterMs).toBe(7000);
    expect(err.message).toContain('Rate limit reached for requests');
  });

  it('maps 500 and 503 to retryable upstream errors', async () => {
    mock.enqueue({ status: 500, errorMessage: 'The server had an error' }, { status: 503, errorMessage: 'Overloaded right now' });
    const e500 = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(e500.code).toBe('upstream_error');
    expect(e500.message).toContain('The server had an error');
    const e503 = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(e503.code).toBe('upstream_overloaded');
    expect(e503.status).toBe(503);
  });

  it('maps a 400 to upstream_invalid_request and keeps the provider message', async () => {
    mock.enqueue({ status: 400, errorMessage: "Invalid value for 'temperature': must be at most 2" });
    const err = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(err.code).toBe('upstream_invalid_request');
    expect(err.status).toBe(400);
    expect(err.message).toContain("Invalid value for 'temperature'");
  });

  it('recognises a context-length error', async () => {
    mock.enqueue({
      status: 400,
      errorCode: 'context_length_exceeded',
      errorMessage: "This model's maximum context length is 128000 tokens. However, your messages resulted in 250000 tokens.",
    });
    const err = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(err.code).toBe('context_length_exceeded');
  });

  it('maps an upstream 401 to upstream_auth_error (502), not a client 401', async () => {
    mock.enqueue({ status: 401, errorMessage: 'Incorrect API key provided' });
    const err = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(err.code).toBe('upstream_auth_error');
    expect(err.status).toBe(502);
  });

  it('turns a connection reset into upstream_unreachable', async () => {
    mock.enqueue({ reset: true });
    const err = await rejection(provider.chat(REQUESTS.basic, pc.model, opts()));
    expect(err.code).toBe('upstream_unreachable');
  });

  it('times out when headers do not arrive within the time-to-first-byte limit', async () => {
    mock.enqueue({ delayMs: 400 });
    const err = await rejection(provider.chat(REQUESTS.basic, pc.model, opts({ ttfbTimeoutMs: 100 })));
    expect(err.code).toBe('upstream_timeout');
  });

  it('fails a stream that is cut off mid-event', async () => {
    mock.enqueue({ text: 'one two three four five six', truncateAfterEvents: 3 });
    const it = await provider.chatStream({ ...REQUESTS.basic, stream: true }, pc.model, opts());
    const err = await rejection(collect(it));
    expect(err.code).toBe('upstream_stream_error');
  });

  it('fails a stream with a malformed event', async () => {
    mock.enqueue({ text: 'one two three four five six', malformedAfterEvents: 2 });
    const it = await provider.chatStream({ ...REQUESTS.basic, stream: true }, pc.model, opts());
    const err = await rejection(collect(it));
    expect(err.code).toBe('upstream_stream_error');
  });

  it('fails a stream that carries an error event, keeping its message', async () => {
    mock.enqueue({ text: 'one two three four five six', errorEventAfterEvents: 2, errorMessage: 'upstream model crashed' });
    const it = await provider.chatStream({ ...REQUESTS.basic, stream: true }, pc.model, opts());
    const err = await rejection(collect(it));
    expect(err.code).toBe('upstream_stream_error');
    expect(err.message).toContain('upstream model crashed');
  });

  it('aborts the upstream request when the signal fires', async () => {
    mock.enqueue({ text: 'a b c d e f g h i j k l m n o p', chunkDelayMs: 50 });
    const abortedBefore = mock.aborted;
    const ctl = new AttemptAbort();
    const it = await provider.chatStream({ ...REQUESTS.basic, stream: true }, pc.model, opts({ attempt: ctl }));
    await it.next();
    ctl.abort(new LlmopsError('client_closed_request', 'client went away'));
    const err = await rejection(collect(it));
    expect(err.code).toBe('client_closed_request');
    await expect.poll(() => mock.aborted, { timeout: 2000 }).toBe(abortedBefore + 1);
  });

  it('aborts a whole (non-streamed) answer while it waits, with the reason it was given', async () => {
    mock.enqueue({ text: 'slow', delayMs: 2_000 });
    const abortedBefore = mock.aborted;
    const ctl = new AttemptAbort();
    const call = provider.chat(REQUESTS.basic, pc.model, opts({ attempt: ctl }));
    setTimeout(() => ctl.abort(new LlmopsError('upstream_timeout', 'attempt timed out')), 50);
    const err = await rejection(call);
    expect(err.code).toBe('upstream_timeout');
    expect(err.message).toBe('attempt timed out');
    await expect.poll(() => mock.aborted, { timeout: 2000 }).toBe(abortedBefore + 1);
  });

  it(pc.supports.embeddings ? 'creates embeddings' : 'refuses embeddings with a clear error', async () => {
    const call = provider.embeddings({ model: 'x', input: ['alpha', 'beta'] }, pc.model, opts());
    if (!pc.supports.embeddings) {
      const err = await rejection(call);
      expect(err.code).toBe('unsupported_parameter');
      expect(err.message).toContain('does not offer embeddings');
      return;
    }
    const r = await call;
    expect(r.response.object).toBe('list');
    expect(r.response.data).toHaveLength(2);
    expect(r.response.data[1]?.index).toBe(1);
    expect(Array.isArray(r.response.data[0]?.embedding)).toBe(true);
    expect(r.usage?.inputTokens).toBeGreaterThan(0);
  });
});
