/**
 * The official `openai` SDK against the gateway, with an OpenAI-format mock upstream and
 * the demo provider behind it: what the SDK returns is what users get.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let mock: MockUpstream;
let t: TestGateway;
let client: OpenAI;

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

beforeAll(async () => {
  mock = await startMockUpstream(openAIDialect);
  t = await startTestGateway({
    providers: { openai: { type: 'openai', api_key: 'sk-upstream', base_url: `${mock.url}/v1` }, demo: {} },
    models: {
      'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] },
      'demo-embed': { targets: [{ provider: 'demo', model: 'demo-embedding' }] },
    },
  });
  client = new OpenAI({ apiKey: t.adminKey, baseURL: `${t.url}/v1`, maxRetries: 0 });
});
afterAll(async () => {
  await t.close();
  await mock.close();
});
beforeEach(() => {
  mock.requests.length = 0;
  mock.setDefault({ text: 'Hello from the mock upstream.', finish: 'stop', usage: { input: 12, output: 7 } });
});

describe('openai SDK → gateway → OpenAI mock', () => {
  it('non-streaming: returns the answer and usage, and the upstream got the request', async () => {
    mock.enqueue({ text: 'Paris is the capital of France.', usage: { input: 14, output: 8, cached: 4 } });
    const res = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Answer briefly.' },
          { role: 'user', content: 'Capital of France?' },
        ],
        temperature: 0.2,
        seed: 7,
        response_format: { type: 'json_object' },
      })
      .withResponse();
    expect(res.data.choices[0]?.message.content).toBe('Paris is the capital of France.');
    expect(res.data.usage).toMatchObject({ prompt_tokens: 14, completion_tokens: 8, total_tokens: 22 });
    expect(res.data.usage?.prompt_tokens_details?.cached_tokens).toBe(4);
    expect(res.response.headers.get('x-llmops-provider')).toBe('openai');
    expect(res.response.headers.get('x-llmops-model')).toBe('gpt-4o-mini');
    expect(Number(res.response.headers.get('x-llmops-cost-usd'))).toBeCloseTo((10 * 0.15 + 4 * 0.075 + 8 * 0.6) / 1e6, 12);
    const up = mock.requests[0]!.body as Record<string, unknown>;
    expect(up.model).toBe('gpt-4o-mini');
    expect(up.temperature).toBe(0.2);
    expect(up.seed).toBe(7);
    expect(up.response_format).toEqual({ type: 'json_object' });
    expect(mock.requests[0]!.headers.authorization).toBe('Bearer sk-upstream');
  });

  it('streaming: yields the text in chunks and the usage chunk when asked', async () => {
    mock.enqueue({ text: 'one two three four', usage: { input: 5, output: 4 } });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    let finish: string | null | undefined;
    let n = 0;
    for await (const chunk of stream) {
      n++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(n).toBeGreaterThan(3);
    expect(text).toBe('one two three four');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 4 });
  });

  it('streaming without include_usage: no usage chunk reaches the client, but the trace has usage', async () => {
    mock.enqueue({ text: 'alpha beta', usage: { input: 3, output: 2 } });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], stream: true })
      .withResponse();
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.some((c) => c.usage)).toBe(false);
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);
    // We asked upstream for usage anyway, to record it.
    expect((mock.requests[0]!.body as { stream_options?: unknown }).stream_options).toEqual({ include_usage: true });
    const traceId = response.headers.get('x-llmops-trace-id')!;
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(1);
    const [trace] = await t.gw.store.getTraceCalls(traceId);
    expect(trace).toMatchObject({ stream: true, input_tokens: 3, output_tokens: 2, tokens_estimated: false, status: 'ok' });
    expect(trace!.ttft_ms).not.toBeNull();
  });

  it('tool calls: non-streaming and streamed argument deltas', async () => {
    const call = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' };
    mock.enqueue({ toolCalls: [call], finish: 'tool_calls', usage: { input: 30, output: 10 } });
    const res = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'auto',
    });
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    const tc = res.choices[0]?.message.tool_calls?.[0];
    expect(tc?.type === 'function' && tc.function).toEqual({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
    expect((mock.requests[0]!.body as { tools: unknown }).tools).toEqual([WEATHER_TOOL]);

    mock.enqueue({ toolCalls: [call], finish: 'tool_calls', usage: { input: 30, output: 10 } });
    const runner = client.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER_TOOL],
    });
    const final = await runner.finalChatCompletion();
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.id).toBe('call_1');
    expect(streamed?.type === 'function' && JSON.parse(streamed.function.arguments)).toEqual({ city: 'Oslo' });
  });

  it('sends tool results and image parts through unchanged', async () => {
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
      ],
      tools: [WEATHER_TOOL],
    });
    const msgs = (mock.requests[0]!.body as { messages: unknown[] }).messages;
    expect(msgs[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } }] });
    expect(msgs[2]).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'sunny' });
  });

  it('upstream errors reach the SDK as typed errors with the provider message', async () => {
    mock.enqueue({ status: 400, errorMessage: "Invalid 'messages[0].content': too long" });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 400,
      code: 'upstream_invalid_request',
      message: expect.stringContaining("Invalid 'messages[0].content': too long"),
    });
  });

  it('unknown model → 404 NotFoundError; bad key → 401 AuthenticationError', async () => {
    await expect(client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bad = new OpenAI({ apiKey: 'sk-wrong-key-123456', baseURL: `${t.url}/v1`, maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});

describe('openai SDK → gateway → demo provider', () => {
  it('lists the models the key may use', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m.id);
    expect(models.sort()).toEqual(['demo', 'demo-embed', 'gpt-4o-mini']);
  });

  it('answers deterministically, streams, calls tools and embeds', async () => {
    const ask = () => client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'Tell me a fact.' }] });
    const a = await ask();
    const b = await ask();
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    expect(a.usage?.completion_tokens).toBeGreaterThan(10);

    const stream = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'Tell me a fact.' }], stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe(a.choices[0]?.message.content);

    const tool = await client.chat.completions.create({
      model: 'demo',
      messages: [{ role: 'user', content: 'What is the weather in Rome?' }],
      tools: [WEATHER_TOOL],
      tool_choice: 'required',
    });
    const call = tool.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && typeof JSON.parse(call.function.arguments).city).toBe('string');

    const emb = await client.embeddings.create({ model: 'demo-embed', input: ['the cat sat', 'the cat sat down', 'quantum chromodynamics'] });
    expect(emb.data).toHaveLength(3);
    const [x, y, z] = emb.data.map((d) => d.embedding);
    const dot = (p: number[], q: number[]) => p.reduce((s, v, i) => s + v * q[i]!, 0);
    expect(dot(x!, y!)).toBeGreaterThan(dot(x!, z!));
  });
});
