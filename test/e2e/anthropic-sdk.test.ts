/**
 * End to end with the official `@anthropic-ai/sdk` as the client of `/v1/messages`: an
 * Anthropic target (lossless passthrough), an OpenAI target (translated both ways) and the
 * demo provider, for plain, streamed and tool-use answers, plus errors; and an OpenAI-format
 * client reading an Anthropic target's stream as OpenAI chunks.
 */
import Anthropic, { APIError, AuthenticationError, NotFoundError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatCompletionChunk } from '../../src/canonical.js';
import { startTestGateway, waitForTraces, type TestGateway } from '../helpers/gateway.js';
import { anthropicDialect, MOCK_MESSAGE_ID } from '../mock-upstreams/anthropic.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import type { MockScenario } from '../mock-upstreams/scenario.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';

let anthropicMock: MockUpstream;
let openaiMock: MockUpstream;
let t: TestGateway;
let client: Anthropic;

beforeAll(async () => {
  anthropicMock = await startMockUpstream(anthropicDialect);
  openaiMock = await startMockUpstream(openAIDialect);
  t = await startTestGateway({
    providers: {
      anthropic: { type: 'anthropic', api_key: 'sk-ant-upstream-key', base_url: anthropicMock.url },
      openai: { type: 'openai', api_key: 'sk-openai-upstream-key', base_url: `${openaiMock.url}/v1` },
      demo: {},
    },
    models: {
      claude: { targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
      gpt: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] },
    },
  });
  client = new Anthropic({ apiKey: t.adminKey, baseURL: t.url, maxRetries: 0 });
});

afterAll(async () => {
  await t.close();
  await anthropicMock.close();
  await openaiMock.close();
});

beforeEach(() => {
  anthropicMock.requests.length = 0;
  openaiMock.requests.length = 0;
});

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};
const TOOL_CALL = { id: 'toolu_01WeatherCall', name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' };

function frame(ev: { event?: string; data: string }): string {
  return `${ev.event === undefined ? '' : `event: ${ev.event}\n`}data: ${ev.data}\n\n`;
}

describe('Anthropic target: lossless passthrough', () => {
  it('answers a plain message with the upstream body verbatim, sending the client body with only model replaced', async () => {
    const scenario: MockScenario = { text: 'Hello from Claude.', finish: 'stop', usage: { input: 30, output: 6, cached: 10, cacheWrite: 5 } };
    anthropicMock.enqueue(scenario);
    const params = {
      model: 'claude',
      max_tokens: 256,
      system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'Hi' }],
      top_k: 5,
      metadata: { user_id: 'user-1' },
    };
    const { data: msg, response } = await client.messages.create(params).withResponse();

    const upstream = anthropicMock.requests[0]!;
    expect(upstream.path).toBe('/v1/messages');
    expect(upstream.body).toEqual({ ...params, model: 'claude-sonnet-4-5' });
    // The upstream gets the provider's key, never the client's.
    expect(upstream.headers['x-api-key']).toBe('sk-ant-upstream-key');
    expect(upstream.headers['anthropic-version']).toBe('2023-06-01');

    expect(msg).toEqual(anthropicDialect.success(scenario, upstream.body, upstream.path));
    expect(msg.id).toBe(MOCK_MESSAGE_ID);
    expect(msg.model).toBe('claude-sonnet-4-5');
    expect(response.headers.get('x-llmops-provider')).toBe('anthropic');
    expect(response.headers.get('x-llmops-model')).toBe('claude-sonnet-4-5');

    await waitForTraces(t.gw, 1);
    const traces = await t.gw.store.listTraces({ limit: 50 });
    const trace = traces.find((r) => r.provider === 'anthropic' && r.endpoint === 'messages');
    expect(trace).toMatchObject({ requested_model: 'claude', input_tokens: 30, output_tokens: 6, cached_tokens: 10, cache_write_tokens: 5, user_id: 'user-1' });
  });

  it('streams the upstream events through byte for byte', async () => {
    const scenario: MockScenario = { text: 'One two three.', usage: { input: 9, output: 4 } };
    anthropicMock.enqueue(scenario);
    const body = { model: 'claude', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Count.' }] };
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': t.adminKey, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const upstream = anthropicMock.requests[0]!;
    expect(upstream.body).toEqual({ ...body, model: 'claude-sonnet-4-5' });
    const expected = anthropicDialect.streamEvents(scenario, upstream.body, upstream.path).map(frame).join('');
    expect(await res.text()).toBe(expected);
  });

  it('streams through the SDK: events and finalMessage() are the upstream message', async () => {
    const scenario: MockScenario = { text: 'Streaming works fine.', usage: { input: 14, output: 5, cached: 4 } };
    anthropicMock.enqueue(scenario);
    const params = { model: 'claude', max_tokens: 100, messages: [{ role: 'user' as const, content: 'Stream, please.' }], stop_sequences: ['###'] };
    const stream = client.messages.stream(params);
    const types: string[] = [];
    let text = '';
    for await (const ev of stream) {
      types.push(ev.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    }
    const final = await stream.finalMessage();
    expect(text).toBe('Streaming works fine.');
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(anthropicMock.requests[0]!.body).toEqual({ ...params, model: 'claude-sonnet-4-5', stream: true });
    expect(final.id).toBe(MOCK_MESSAGE_ID);
    expect(final.model).toBe('claude-sonnet-4-5');
    expect(final.content).toEqual([{ type: 'text', text: 'Streaming works fine.' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 10, cache_read_input_tokens: 4, output_tokens: 5 });
  });

  it('returns tool_use blocks with an input object, streamed or not', async () => {
    anthropicMock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12 } });
    const params = {
      model: 'claude',
      max_tokens: 200,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'auto' as const },
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
    };
    const msg = await client.messages.create(params);
    expect(anthropicMock.requests[0]!.body).toEqual({ ...params, model: 'claude-sonnet-4-5' });
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([{ type: 'tool_use', id: TOOL_CALL.id, name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } }]);

    anthropicMock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12 } });
    const final = await client.messages.stream(params).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const block = final.content[0];
    expect(block?.type).toBe('tool_use');
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(block.id).toBe(TOOL_CALL.id);
    expect(block.input).toEqual({ city: 'Paris', unit: 'celsius' });
  });

  it('ends a stream whose upstream sends an error event with an Anthropic error event', async () => {
    anthropicMock.enqueue({ text: 'one two three four five', errorEventAfterEvents: 4, errorMessage: 'upstream model crashed' });
    const stream = client.messages.stream({ model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'Go.' }] });
    const err = await stream.finalMessage().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).type).toBe('api_error');
    expect((err as APIError).apiMessage).toContain('upstream model crashed');
  });
});

describe('OpenAI target: translated both ways', () => {
  it('answers a plain message as an Anthropic message named after the requested model', async () => {
    openaiMock.enqueue({ text: 'Hello from GPT.', usage: { input: 20, output: 5, cached: 8 } });
    const msg = await client.messages.create({
      model: 'gpt',
      max_tokens: 100,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hi' }],
      stop_sequences: ['END'],
      metadata: { user_id: 'user-9' },
      thinking: { type: 'disabled' },
    });
    // Anthropic-only fields (thinking) are not sent to OpenAI; metadata.user_id becomes user.
    expect(openaiMock.requests[0]!.body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 100,
      stop: ['END'],
      user: 'user-9',
    });
    expect(msg).toEqual({
      id: 'msg_chatcmpl-mock123',
      type: 'message',
      role: 'assistant',
      model: 'gpt',
      content: [{ type: 'text', text: 'Hello from GPT.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 12, cache_read_input_tokens: 8, cache_creation_input_tokens: 0, output_tokens: 5 },
    });
  });

  it('streams translated events; finalMessage() has the text and full usage', async () => {
    openaiMock.enqueue({ text: 'Translated stream of words.', usage: { input: 20, output: 6, cached: 8 } });
    const stream = client.messages.stream({ model: 'gpt', max_tokens: 100, messages: [{ role: 'user', content: 'Go.' }] });
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(final.model).toBe('gpt');
    expect(final.content).toEqual([{ type: 'text', text: 'Translated stream of words.' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: 12, cache_read_input_tokens: 8, output_tokens: 6 });
    expect((openaiMock.requests[0]!.body as { stream?: boolean }).stream).toBe(true);
  });

  it('translates tools, tool calls and tool results, streamed or not', async () => {
    openaiMock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12 } });
    const params = {
      model: 'gpt',
      max_tokens: 200,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'any' as const },
      messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
    };
    const msg = await client.messages.create(params);
    const sent = openaiMock.requests[0]!.body as Record<string, unknown>;
    expect(sent.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: WEATHER_TOOL.input_schema } }]);
    expect(sent.tool_choice).toBe('required');
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content).toEqual([{ type: 'tool_use', id: TOOL_CALL.id, name: 'get_weather', input: { city: 'Paris', unit: 'celsius' } }]);

    openaiMock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12 } });
    const final = await client.messages.stream(params).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const block = final.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(block).toMatchObject({ id: TOOL_CALL.id, name: 'get_weather' });
    expect(block.input).toEqual({ city: 'Paris', unit: 'celsius' });

    openaiMock.enqueue({ text: 'It is 18C and clear in Paris.' });
    const answer = await client.messages.create({
      ...params,
      tool_choice: { type: 'auto' },
      messages: [
        ...params.messages,
        { role: 'assistant', content: msg.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: TOOL_CALL.id, content: '{"temp_c":18,"sky":"clear"}' }] },
      ],
    });
    expect((openaiMock.requests[2]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: TOOL_CALL.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }],
      },
      { role: 'tool', tool_call_id: TOOL_CALL.id, content: '{"temp_c":18,"sky":"clear"}' },
    ]);
    expect(answer.content).toEqual([{ type: 'text', text: 'It is 18C and clear in Paris.' }]);
  });
});

describe('demo provider', () => {
  it('answers plain and streamed messages with the same deterministic text', async () => {
    const params = { model: 'demo', max_tokens: 300, messages: [{ role: 'user' as const, content: 'Tell me about llmops.' }] };
    const msg = await client.messages.create(params);
    expect(msg.model).toBe('demo');
    expect(msg.stop_reason).toBe('end_turn');
    const block = msg.content[0];
    if (block?.type !== 'text') throw new Error('expected a text block');
    expect(block.text).toContain('demo model');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);

    const final = await client.messages.stream(params).finalMessage();
    expect(final.content).toEqual(msg.content);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject({ input_tokens: msg.usage.input_tokens, output_tokens: msg.usage.output_tokens });
  });

  it('calls a tool with an input object that fits its schema, streamed or not', async () => {
    const params = {
      model: 'demo',
      max_tokens: 300,
      tools: [WEATHER_TOOL],
      messages: [{ role: 'user' as const, content: 'Use get_weather for Paris.' }],
    };
    const msg = await client.messages.create(params);
    expect(msg.stop_reason).toBe('tool_use');
    const block = msg.content[0];
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(block.name).toBe('get_weather');
    expect(typeof (block.input as { city?: unknown }).city).toBe('string');

    const final = await client.messages.stream(params).finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const streamed = final.content[0];
    if (streamed?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(streamed.id).toBe(block.id);
    expect(streamed.input).toEqual(block.input);
  });
});

describe('errors in Anthropic shape', () => {
  it('raises NotFoundError for an unknown model, with our message', async () => {
    const err = await client.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NotFoundError);
    const e = err as NotFoundError;
    expect(e.status).toBe(404);
    expect(e.type).toBe('not_found_error');
    expect(e.apiMessage).toContain("The model 'no-such-model' does not exist");
    expect(e.error).toEqual({ type: 'error', error: { type: 'not_found_error', message: e.apiMessage } });
  });

  it('raises AuthenticationError for a bad key', async () => {
    const bad = new Anthropic({ apiKey: 'sk-not-a-valid-key-000000', baseURL: t.url, maxRetries: 0 });
    const err = await bad.messages.create({ model: 'demo', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).status).toBe(401);
    expect((err as AuthenticationError).type).toBe('authentication_error');
  });

  it('answers an invalid body with invalid_request_error naming the field', async () => {
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': t.adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('max_tokens');
  });
});

describe('OpenAI-format client, Anthropic target', () => {
  it('gets the Anthropic stream as OpenAI chunks, tool call argument deltas included', async () => {
    anthropicMock.enqueue({ toolCalls: [TOOL_CALL], finish: 'tool_calls', usage: { input: 40, output: 12, cached: 15 } });
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER_TOOL.input_schema } }],
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const datas = text
      .split('\n\n')
      .filter((f) => f.startsWith('data: '))
      .map((f) => f.slice(6));
    expect(datas.at(-1)).toBe('[DONE]');
    const chunks = datas.slice(0, -1).map((d) => JSON.parse(d) as ChatCompletionChunk);
    for (const c of chunks) expect(c.object).toBe('chat.completion.chunk');
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(deltas[0]).toEqual({ index: 0, id: TOOL_CALL.id, type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.map((d) => d.function?.arguments ?? '').join('')).toBe(TOOL_CALL.arguments);
    expect(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 40, completion_tokens: 12, prompt_tokens_details: { cached_tokens: 15 } } });

    const upstream = anthropicMock.requests[0]!.body as Record<string, unknown>;
    expect(upstream).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ name: 'get_weather', input_schema: WEATHER_TOOL.input_schema }],
      stream: true,
    });
  });
});
