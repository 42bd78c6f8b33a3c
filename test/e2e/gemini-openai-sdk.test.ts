/**
 * The official `openai` SDK against the gateway with a Gemini wire-format mock behind it:
 * an OpenAI client talks to Gemini through llmops, answers, streams, tool calls, errors
 * and embeddings included.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { geminiDialect } from '../mock-upstreams/gemini.js';
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
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
    strict: true,
  },
};

interface GeminiBody {
  contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  systemInstruction?: unknown;
  tools?: unknown;
  toolConfig?: unknown;
  generationConfig?: Record<string, unknown>;
  requests?: unknown;
}

const upstreamBody = (i = 0): GeminiBody => mock.requests[i]!.body as GeminiBody;

beforeAll(async () => {
  mock = await startMockUpstream(geminiDialect);
  t = await startTestGateway({
    providers: { gemini: { type: 'gemini', api_key: 'gm-upstream-key', base_url: mock.url } },
    models: {
      'gemini-flash': { targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
      'gemini-embed': { targets: [{ provider: 'gemini', model: 'gemini-embedding-001' }] },
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
  mock.setDefault({ text: 'Hello from the Gemini mock.', finish: 'stop', usage: { input: 12, output: 7 } });
});

describe('openai SDK → gateway → Gemini mock', () => {
  it('non-streaming: answer, usage with cached and thinking tokens, cost, and a translated upstream request', async () => {
    mock.enqueue({ text: '{"capital":"Paris"}', usage: { input: 1000, output: 300, cached: 600, reasoning: 120 } });
    const res = await client.chat.completions
      .create({
        model: 'gemini-flash',
        messages: [
          { role: 'system', content: 'Answer in JSON.' },
          { role: 'user', content: 'Capital of France?' },
        ],
        temperature: 0.2,
        seed: 7,
        max_completion_tokens: 64,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'capital', strict: true, schema: { type: 'object', properties: { capital: { type: 'string' } }, required: ['capital'], additionalProperties: false } },
        },
      })
      .withResponse();
    expect(res.data.object).toBe('chat.completion');
    expect(res.data.id).toBe('mockResp_gemini_123');
    expect(res.data.model).toBe('gemini-2.5-flash');
    expect(res.data.choices[0]?.message).toMatchObject({ role: 'assistant', content: '{"capital":"Paris"}' });
    expect(res.data.choices[0]?.finish_reason).toBe('stop');
    expect(res.data.usage).toMatchObject({
      prompt_tokens: 1000,
      completion_tokens: 300,
      total_tokens: 1300,
      prompt_tokens_details: { cached_tokens: 600 },
      completion_tokens_details: { reasoning_tokens: 120 },
    });
    expect(res.response.headers.get('x-llmops-provider')).toBe('gemini');
    expect(res.response.headers.get('x-llmops-model')).toBe('gemini-2.5-flash');
    // data/prices.json: gemini-2.5-flash input 0.3, cached 0.03, output 2.5 per million.
    expect(Number(res.response.headers.get('x-llmops-cost-usd'))).toBeCloseTo((400 * 0.3 + 600 * 0.03 + 300 * 2.5) / 1e6, 8);

    const up = mock.requests[0]!;
    expect(up.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(up.headers['x-goog-api-key']).toBe('gm-upstream-key');
    expect(up.headers.authorization).toBeUndefined();
    expect(upstreamBody()).toEqual({
      systemInstruction: { parts: [{ text: 'Answer in JSON.' }] },
      contents: [{ role: 'user', parts: [{ text: 'Capital of France?' }] }],
      generationConfig: {
        temperature: 0.2,
        seed: 7,
        maxOutputTokens: 64,
        responseMimeType: 'application/json',
        responseSchema: { type: 'object', properties: { capital: { type: 'string' } }, required: ['capital'] },
      },
    });
  });

  it('streaming: text chunks, one finish, and the usage chunk when asked', async () => {
    mock.enqueue({ text: 'one two three four', usage: { input: 5, output: 4, reasoning: 1 } });
    const stream = await client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    const finishes: string[] = [];
    let role: string | undefined;
    let n = 0;
    for await (const chunk of stream) {
      n++;
      expect(chunk.object).toBe('chat.completion.chunk');
      role ??= chunk.choices[0]?.delta.role;
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(n).toBeGreaterThan(3);
    expect(role).toBe('assistant');
    expect(text).toBe('one two three four');
    expect(finishes).toEqual(['stop']);
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 4, total_tokens: 9, completion_tokens_details: { reasoning_tokens: 1 } });
    expect(mock.requests[0]!.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
  });

  it('streaming without include_usage: no usage chunk reaches the client, but the trace has the usage', async () => {
    mock.enqueue({ text: 'alpha beta', usage: { input: 3, output: 2 } });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'gemini-flash', messages: [{ role: 'user', content: 'x' }], stream: true })
      .withResponse();
    const got = [];
    for await (const c of stream) got.push(c);
    expect(got.some((c) => c.usage)).toBe(false);
    expect(got.every((c) => c.choices.length === 1)).toBe(true);
    const traceId = response.headers.get('x-llmops-trace-id')!;
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(1);
    const [trace] = await t.gw.store.getTraceCalls(traceId);
    expect(trace).toMatchObject({ stream: true, input_tokens: 3, output_tokens: 2, tokens_estimated: false, status: 'ok' });
  });

  it('tool calls: non-streaming, streamed through the SDK helper, and the results sent back as functionResponse', async () => {
    const call = { id: 'call_oslo_1', name: 'get_weather', arguments: '{"city":"Oslo"}' };
    mock.enqueue({ toolCalls: [call], finish: 'tool_calls', usage: { input: 30, output: 10 } });
    const res = await client.chat.completions.create({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
    expect(res.choices[0]?.message.content).toBeNull();
    const tc = res.choices[0]?.message.tool_calls?.[0];
    expect(tc?.id).toBe('call_oslo_1');
    expect(tc?.type === 'function' && tc.function).toEqual({ name: 'get_weather', arguments: '{"city":"Oslo"}' });
    expect(upstreamBody().tools).toEqual([
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
        ],
      },
    ]);
    expect(upstreamBody().toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } });

    mock.enqueue({ toolCalls: [call], finish: 'tool_calls', usage: { input: 30, output: 10 } });
    const runner = client.chat.completions.stream({
      model: 'gemini-flash',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER_TOOL],
    });
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    const streamed = final.choices[0]?.message.tool_calls?.[0];
    expect(streamed?.id).toBe('call_oslo_1');
    expect(streamed?.type === 'function' && streamed.function.name).toBe('get_weather');
    expect(streamed?.type === 'function' && JSON.parse(streamed.function.arguments)).toEqual({ city: 'Oslo' });

    mock.enqueue({ text: 'It is 4°C and clear in Oslo.', usage: { input: 50, output: 9 } });
    const answer = await client.chat.completions.create({
      model: 'gemini-flash',
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_oslo_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
        { role: 'tool', tool_call_id: 'call_oslo_1', content: '{"temp_c":4,"sky":"clear"}' },
      ],
      tools: [WEATHER_TOOL],
    });
    expect(answer.choices[0]?.message.content).toBe('It is 4°C and clear in Oslo.');
    expect(upstreamBody(2).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Oslo?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Oslo' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 4, sky: 'clear' } } }] },
    ]);
  });

  it('sends image parts as inlineData and fileData', async () => {
    await client.chat.completions.create({
      model: 'gemini-flash',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.webp', detail: 'low' } },
          ],
        },
      ],
    });
    expect(upstreamBody().contents[0]?.parts).toEqual([
      { text: 'Compare these.' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/cat.webp' } },
    ]);
  });

  it("upstream errors reach the SDK typed, with Gemini's message; its token-limit error is context_length_exceeded", async () => {
    const tooLong = 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).';
    mock.enqueue({ status: 400, errorMessage: tooLong });
    const err = await client.chat.completions.create({ model: 'gemini-flash', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err).toMatchObject({ status: 400, code: 'context_length_exceeded', message: expect.stringContaining(tooLong) });
  });

  it('a stream cut off by an in-stream Gemini error ends with an error event the SDK raises', async () => {
    mock.enqueue({ text: 'one two three four five', errorEventAfterEvents: 2, errorMessage: 'An internal error has occurred.' });
    const stream = await client.chat.completions.create({ model: 'gemini-flash', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    const consume = async () => {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    };
    await expect(consume()).rejects.toThrow(/An internal error has occurred/);
    expect(text).toBe('one two ');
  });

  it('embeddings: the SDK default (base64) and floats both decode to the upstream values; dimensions pass through', async () => {
    const emb = await client.embeddings.create({ model: 'gemini-embed', input: ['the cat sat', 'quantum chromodynamics'] });
    expect(emb.object).toBe('list');
    expect(emb.data.map((d) => d.index)).toEqual([0, 1]);
    const want = [
      [0.1, 0.05, 0],
      [0.2, 0.15, 0.1],
    ];
    for (const [i, d] of emb.data.entries()) {
      expect(d.embedding).toHaveLength(3);
      d.embedding.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 6));
    }
    expect(emb.usage.prompt_tokens).toBeGreaterThan(0);
    expect(mock.requests[0]!.path).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(mock.requests[0]!.headers['x-goog-api-key']).toBe('gm-upstream-key');
    expect(upstreamBody().requests).toEqual([
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'the cat sat' }] } },
      { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'quantum chromodynamics' }] } },
    ]);

    const floats = await client.embeddings.create({ model: 'gemini-embed', input: 'one', encoding_format: 'float', dimensions: 4 });
    expect(floats.data[0]?.embedding).toEqual([0.1, 0.05, 0, -0.05]);
    expect(upstreamBody(1).requests).toEqual([{ model: 'models/gemini-embedding-001', content: { parts: [{ text: 'one' }] }, outputDimensionality: 4 }]);
  });
});
