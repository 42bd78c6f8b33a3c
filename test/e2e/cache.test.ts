/**
 * The response cache through the real gateway and a mock OpenAI upstream: hits never reach
 * the upstream, tenants never share answers, the x-llmops-cache headers, TTLs, streaming
 * replay (OpenAI and Anthropic), no caching of errors or broken streams, the temperature
 * rule, semantic hits, and hits in traces and metrics.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/sse.js';
import type { TraceRecord } from '../../src/store/types.js';
import { startTestGateway, waitForTraces, type TestGateway } from '../helpers/gateway.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';

const KEY_A = 'sk-tenant-a-0123456789abcdef';
const KEY_B = 'sk-tenant-b-0123456789abcdef';

let upstream: MockUpstream;
const gateways: TestGateway[] = [];

beforeAll(async () => {
  upstream = await startMockUpstream(openAIDialect);
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
beforeEach(() => {
  upstream.requests.length = 0;
  upstream.setDefault({ text: 'Paris is the capital of France.', usage: { input: 1000, output: 500 } });
});

async function gateway(cache: Record<string, unknown> = {}): Promise<TestGateway> {
  const g = await startTestGateway({
    providers: { up: { type: 'openai', api_key: 'k', base_url: `${upstream.url}/v1` } },
    routing: { retries: 0 },
    models: { chat: { targets: [{ provider: 'up', model: 'gpt-4o-mini' }] }, embed: { targets: [{ provider: 'up', model: 'text-embedding-3-small' }] } },
    keys: [
      { name: 'a', key: KEY_A },
      { name: 'b', key: KEY_B },
    ],
    cache,
  });
  gateways.push(g);
  return g;
}

function post(g: TestGateway, path: string, body: Record<string, unknown>, headers: Record<string, string> = {}, key = KEY_A): Promise<Response> {
  return fetch(`${g.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const question = (content = 'What is the capital of France?', extra: Record<string, unknown> = {}) => ({
  model: 'chat',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content },
  ],
  ...extra,
});

function chat(g: TestGateway, body: Record<string, unknown> = question(), headers: Record<string, string> = {}, key = KEY_A): Promise<Response> {
  return post(g, '/v1/chat/completions', body, headers, key);
}

async function sse(res: Response): Promise<Array<{ event: string | undefined; data: string }>> {
  const out: Array<{ event: string | undefined; data: string }> = [];
  for await (const ev of parseSse(res.body as AsyncIterable<Uint8Array>)) out.push({ event: ev.event, data: ev.data });
  return out;
}

function streamedText(events: Array<{ data: string }>): string {
  let text = '';
  for (const e of events) {
    if (e.data === '[DONE]') continue;
    const c = JSON.parse(e.data) as { choices: Array<{ delta: { content?: string } }> };
    text += c.choices[0]?.delta.content ?? '';
  }
  return text;
}

describe('exact cache', () => {
  it('answers a repeated request from the cache without calling the upstream', async () => {
    const g = await gateway();
    const first = await chat(g);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-llmops-cache')).toBe('miss');
    const a = (await first.json()) as { id: string; choices: Array<{ message: { content: string } }>; usage: unknown };

    // Same request, other key order and other non-output fields: still the same answer.
    const second = await chat(g, { user: 'someone', metadata: { x: '1' }, messages: question().messages, model: 'chat' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-llmops-cache')).toBe('hit');
    expect(second.headers.get('x-llmops-cost-usd')).toBe('0.00000000');
    const b = (await second.json()) as typeof a;
    expect(b.choices[0]!.message.content).toBe('Paris is the capital of France.');
    expect(b.usage).toEqual(a.usage);
    expect(b.id).not.toBe(a.id);
    expect(upstream.requests).toHaveLength(1);
  });

  it('never shares answers across tenants (keys)', async () => {
    const g = await gateway();
    await chat(g, question(), {}, KEY_A);
    const other = await chat(g, question(), {}, KEY_B);
    expect(other.headers.get('x-llmops-cache')).toBe('miss');
    expect(upstream.requests).toHaveLength(2);
    expect((await chat(g, question(), {}, KEY_B)).headers.get('x-llmops-cache')).toBe('hit');
    expect(upstream.requests).toHaveLength(2);
  });

  it('shares within a team under namespace: team', async () => {
    const g = await startTestGateway({
      providers: { up: { type: 'openai', api_key: 'k', base_url: `${upstream.url}/v1` } },
      models: { chat: { targets: [{ provider: 'up', model: 'gpt-4o-mini' }] } },
      keys: [
        { name: 'a', key: KEY_A, metadata: { team: 'red' } },
        { name: 'b', key: KEY_B, metadata: { team: 'red' } },
      ],
      cache: { namespace: 'team' },
    });
    gateways.push(g);
    await chat(g, question(), {}, KEY_A);
    expect((await chat(g, question(), {}, KEY_B)).headers.get('x-llmops-cache')).toBe('hit');
  });

  it('keys on what changes the answer: other messages, params or model miss', async () => {
    const g = await gateway();
    await chat(g);
    expect((await chat(g, question('What is the capital of Spain?'))).headers.get('x-llmops-cache')).toBe('miss');
    expect((await chat(g, question(undefined, { max_tokens: 5 }))).headers.get('x-llmops-cache')).toBe('miss');
    expect((await chat(g, question(undefined, { model: 'up/gpt-4o-mini' }))).headers.get('x-llmops-cache')).toBe('miss');
    expect(upstream.requests).toHaveLength(4);
  });

  it('x-llmops-cache: no-store skips the cache both ways; refresh fetches anew and stores', async () => {
    const g = await gateway();
    const skipped = await chat(g, question(), { 'x-llmops-cache': 'no-store' });
    expect(skipped.headers.get('x-llmops-cache')).toBe('skip');
    expect((await chat(g)).headers.get('x-llmops-cache')).toBe('miss'); // no-store stored nothing
    upstream.setDefault({ text: 'Paris (refreshed).', usage: { input: 10, output: 5 } });
    const refreshed = await chat(g, question(), { 'x-llmops-cache': 'refresh' });
    expect(refreshed.headers.get('x-llmops-cache')).toBe('miss');
    const hit = await chat(g);
    expect(hit.headers.get('x-llmops-cache')).toBe('hit');
    expect(((await hit.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('Paris (refreshed).');
    expect(upstream.requests).toHaveLength(3);
    const bad = await chat(g, question(), { 'x-llmops-cache': 'sometimes' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('x-llmops-cache');
  });

  it('expires entries after the TTL from x-llmops-cache-ttl, per model config, or the default', async () => {
    const g = await gateway({ ttl_seconds: 3600, models: { 'up/*': { ttl_seconds: 1 } } });
    await chat(g, question(), { 'x-llmops-cache-ttl': '1' });
    await chat(g, question(undefined, { model: 'up/gpt-4o-mini' }));
    expect((await chat(g)).headers.get('x-llmops-cache')).toBe('hit');
    await new Promise((r) => setTimeout(r, 1100));
    expect((await chat(g)).headers.get('x-llmops-cache')).toBe('miss');
    expect((await chat(g, question(undefined, { model: 'up/gpt-4o-mini' }))).headers.get('x-llmops-cache')).toBe('miss');
    expect((await chat(g, question(), { 'x-llmops-cache-ttl': 'soon' })).status).toBe(400);
  });

  it('caches temperature > 0 only when configured', async () => {
    const g = await gateway();
    const warm = question(undefined, { temperature: 0.7 });
    expect((await chat(g, warm)).headers.get('x-llmops-cache')).toBe('skip');
    expect((await chat(g, warm)).headers.get('x-llmops-cache')).toBe('skip');
    expect((await chat(g, question(undefined, { temperature: 0 }))).headers.get('x-llmops-cache')).toBe('miss');
    expect(upstream.requests).toHaveLength(3);
    const g2 = await gateway({ cache_nonzero_temperature: true });
    await chat(g2, warm);
    expect((await chat(g2, warm)).headers.get('x-llmops-cache')).toBe('hit');
  });

  it('does not store errors or broken streams', async () => {
    const g = await gateway();
    upstream.enqueue({ status: 500, errorMessage: 'boom' });
    expect((await chat(g)).status).toBe(502);
    expect((await chat(g)).headers.get('x-llmops-cache')).toBe('miss');
    upstream.enqueue({ truncateAfterEvents: 3 });
    const broken = await chat(g, question('stream me', { stream: true }));
    expect(broken.headers.get('x-llmops-cache')).toBe('miss');
    await sse(broken);
    const again = await chat(g, question('stream me', { stream: true }));
    expect(again.headers.get('x-llmops-cache')).toBe('miss');
    await sse(again);
    expect(upstream.requests).toHaveLength(4);
  });
});

describe('streaming', () => {
  it('stores a complete stream and replays it as a proper SSE stream, usage included when asked', async () => {
    const g = await gateway();
    const body = question('Tell me a story', { stream: true, stream_options: { include_usage: true } });
    const first = await chat(g, body);
    expect(first.headers.get('x-llmops-cache')).toBe('miss');
    const original = await sse(first);
    const hit = await chat(g, body);
    expect(hit.headers.get('x-llmops-cache')).toBe('hit');
    expect(hit.headers.get('content-type')).toContain('text/event-stream');
    const replay = await sse(hit);
    expect(replay.at(-1)!.data).toBe('[DONE]');
    expect(streamedText(replay)).toBe(streamedText(original));
    expect(streamedText(replay)).toBe('Paris is the capital of France.');
    const chunks = replay.slice(0, -1).map((e) => JSON.parse(e.data) as { object: string; choices: Array<{ finish_reason: string | null }>; usage?: { prompt_tokens: number } });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.at(-1)!.usage?.prompt_tokens).toBe(1000);
    expect(upstream.requests).toHaveLength(1);

    // The same question without streaming gets the same stored answer as JSON.
    const plain = await chat(g, question('Tell me a story'));
    expect(plain.headers.get('x-llmops-cache')).toBe('hit');
    expect(((await plain.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe('Paris is the capital of France.');
    // And without include_usage, no usage chunk.
    const noUsage = await sse(await chat(g, question('Tell me a story', { stream: true })));
    expect(noUsage.some((e) => e.data !== '[DONE]' && (JSON.parse(e.data) as { usage?: unknown }).usage)).toBe(false);
    expect(upstream.requests).toHaveLength(1);
  });

  it('replays Anthropic events on /v1/messages', async () => {
    const g = await gateway();
    const body = { model: 'chat', max_tokens: 100, system: 'You are terse.', messages: [{ role: 'user', content: 'Capital of France?' }] };
    const plain = await post(g, '/v1/messages', body);
    expect(plain.headers.get('x-llmops-cache')).toBe('miss');
    const m1 = (await plain.json()) as { id: string; type: string; content: Array<{ text: string }> };
    const m2res = await post(g, '/v1/messages', body);
    expect(m2res.headers.get('x-llmops-cache')).toBe('hit');
    const m2 = (await m2res.json()) as typeof m1;
    expect(m2.type).toBe('message');
    expect(m2.content[0]!.text).toBe(m1.content[0]!.text);
    expect(m2.id).not.toBe(m1.id);

    const streamed = await post(g, '/v1/messages', { ...body, stream: true });
    expect(streamed.headers.get('x-llmops-cache')).toBe('hit');
    const events = await sse(streamed);
    expect(events.map((e) => e.event)).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect((JSON.parse(events[2]!.data) as { delta: { text: string } }).delta.text).toBe('Paris is the capital of France.');
    expect(upstream.requests).toHaveLength(1);
    // Answers are stored per wire format: the OpenAI endpoint does not get Anthropic bytes.
    expect((await chat(g, { model: 'chat', max_tokens: 100, messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Capital of France?' }] })).headers.get('x-llmops-cache')).toBe('miss');
  });
});

describe('semantic cache', () => {
  it('answers a near-duplicate question within the same system prompt and tenant', async () => {
    const g = await gateway({ semantic: { threshold: 0.95 } });
    await chat(g, question('What is the capital of France?'));
    const near = await chat(g, question('what is the capital of france'));
    expect(near.headers.get('x-llmops-cache')).toBe('hit');
    expect(upstream.requests).toHaveLength(1);
    // Another system prompt, another tenant, or another question: no hit.
    const otherSystem = { model: 'chat', messages: [{ role: 'system', content: 'You are verbose.' }, { role: 'user', content: 'what is the capital of france' }] };
    expect((await chat(g, otherSystem)).headers.get('x-llmops-cache')).toBe('miss');
    expect((await chat(g, question('what is the capital of france'), {}, KEY_B)).headers.get('x-llmops-cache')).toBe('miss');
    expect((await chat(g, question('What is the capital of Germany?'))).headers.get('x-llmops-cache')).toBe('miss');
    expect(upstream.requests).toHaveLength(4);

    await waitForTraces(g.gw, 5);
    const { data } = await g.gw.store.searchTraces({ cacheStatus: 'hit' }, 10);
    expect(data).toHaveLength(1);
    expect(data[0]!.attributes).toMatchObject({ 'llmops.cache.kind': 'semantic', 'llmops.cache.embedder': 'local' });
    expect(data[0]!.attributes!['llmops.cache.similarity']).toBeGreaterThanOrEqual(0.95);
  });
});

describe('semantic cache with an embedding model', () => {
  it('embeds through llmops\' own providers (the mock gives every text the same vector)', async () => {
    const g = await startTestGateway({
      providers: { up: { type: 'openai', api_key: 'k', base_url: `${upstream.url}/v1` } },
      models: {
        chat: { targets: [{ provider: 'up', model: 'gpt-4o-mini' }] },
        emb: { targets: [{ provider: 'up', model: 'text-embedding-3-small' }] },
      },
      keys: [{ name: 'a', key: KEY_A }],
      cache: { semantic: { embedder: { model: 'emb' } } },
    });
    gateways.push(g);
    await chat(g, question('first question'));
    const other = await chat(g, question('a completely different one'));
    expect(other.headers.get('x-llmops-cache')).toBe('hit');
    const paths = upstream.requests.map((r) => r.path);
    expect(paths.filter((p) => p.endsWith('/chat/completions'))).toHaveLength(1);
    expect(paths.filter((p) => p.endsWith('/embeddings')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('embeddings', () => {
  const embed = (g: TestGateway, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, key = KEY_A): Promise<Response> =>
    post(g, '/v1/embeddings', { model: 'embed', input: ['first text', 'second text'], ...extra }, headers, key);

  it('answers a repeated embeddings request from the cache: same vectors, no upstream call, traced as a hit with its shape', async () => {
    const g = await gateway();
    const first = await embed(g);
    expect(first.headers.get('x-llmops-cache')).toBe('miss');
    const a = (await first.json()) as { data: Array<{ embedding: number[] }>; usage: unknown };
    const second = await embed(g, { user: 'someone' });
    expect(second.status).toBe(200);
    expect(second.headers.get('x-llmops-cache')).toBe('hit');
    expect(await second.json()).toEqual(a);
    expect(upstream.requests).toHaveLength(1);

    await waitForTraces(g.gw, 2);
    const [hit, miss] = (await g.gw.store.searchTraces({}, 10)).data as [TraceRecord, TraceRecord];
    expect(miss).toMatchObject({ endpoint: 'embeddings', cache_status: 'miss', input_tokens: 10 });
    expect(hit).toMatchObject({ endpoint: 'embeddings', cache_status: 'hit', cost_usd: 0, input_tokens: 0 });
    expect(hit.attributes).toMatchObject({ 'llmops.cache.kind': 'exact', 'llmops.cache.saved_input_tokens': 10, 'llmops.cache.model': 'text-embedding-3-small' });
    expect(hit.attributes!['llmops.cache.saved_usd']).toBeCloseTo(miss.cost_usd!, 12);
    // As for a fresh answer, the trace keeps the vectors' shape, not the vectors.
    expect(hit.output_payload).toEqual({ object: 'list', count: 2, dimensions: 3 });
    expect(hit.output_payload).toEqual(miss.output_payload);
  });

  it('keys on the input and the output options, per tenant, and obeys the cache headers', async () => {
    const g = await gateway();
    await embed(g);
    expect((await embed(g, { input: ['first text'] })).headers.get('x-llmops-cache')).toBe('miss');
    expect((await embed(g, { dimensions: 2 })).headers.get('x-llmops-cache')).toBe('miss');
    expect((await embed(g, {}, {}, KEY_B)).headers.get('x-llmops-cache')).toBe('miss');
    expect((await embed(g, {}, { 'x-llmops-cache': 'no-store' })).headers.get('x-llmops-cache')).toBe('skip');
    expect((await embed(g, {}, { 'x-llmops-cache': 'refresh' })).headers.get('x-llmops-cache')).toBe('miss');
    expect(upstream.requests).toHaveLength(6);
    expect((await embed(g)).headers.get('x-llmops-cache')).toBe('hit');
    expect(upstream.requests).toHaveLength(6);
  });

  it('stores no failed embeddings call', async () => {
    const g = await gateway();
    upstream.enqueue({ status: 500, errorMessage: 'boom' });
    expect((await embed(g)).status).toBe(502);
    const again = await embed(g);
    expect(again.status).toBe(200);
    expect(again.headers.get('x-llmops-cache')).toBe('miss');
  });
});

describe('traces and metrics', () => {
  it('records hits with what they saved, and counts them in /metrics', async () => {
    const g = await gateway();
    await chat(g);
    await chat(g);
    await waitForTraces(g.gw, 2);
    const { data } = await g.gw.store.searchTraces({}, 10);
    const [hit, miss] = data as [TraceRecord, TraceRecord];
    expect(miss.cache_status).toBe('miss');
    expect(hit).toMatchObject({ cache_status: 'hit', status: 'ok', http_status: 200, cost_usd: 0, input_tokens: 0, output_tokens: 0, provider: null });
    // gpt-4o-mini: $0.15/M input, $0.60/M output → 1000 in + 500 out = $0.00045.
    expect(hit.attributes).toMatchObject({
      'llmops.cache.kind': 'exact',
      'llmops.cache.saved_input_tokens': 1000,
      'llmops.cache.saved_output_tokens': 500,
      'llmops.cache.provider': 'up',
      'llmops.cache.model': 'gpt-4o-mini',
    });
    expect(hit.attributes!['llmops.cache.saved_usd']).toBeCloseTo(miss.cost_usd!, 10);
    expect(hit.output_payload).toMatchObject({ choices: [{ message: { content: 'Paris is the capital of France.' } }] });

    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    expect(metrics).toMatch(/llmops_cache_requests_total\{[^}]*status="hit"[^}]*kind="exact"\} 1/);
    expect(metrics).toMatch(/llmops_cache_requests_total\{[^}]*status="miss"[^}]*\} 1/);
    expect(metrics).toMatch(/llmops_cache_saved_tokens_total\{[^}]*type="output"\} 500/);
    expect(metrics).toMatch(/llmops_cache_saved_usd_total\{[^}]*\} 0\.00045/);
  });

  it('is left out of the pipeline when not configured: header skip, no cache', async () => {
    const g = await startTestGateway({
      providers: { up: { type: 'openai', api_key: 'k', base_url: `${upstream.url}/v1` } },
      models: { chat: { targets: [{ provider: 'up', model: 'gpt-4o-mini' }] } },
    });
    gateways.push(g);
    expect(g.gw.cache).toBeUndefined();
    const r = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(question()) });
    expect(r.headers.get('x-llmops-cache')).toBe('skip');
    const clear = await fetch(`${g.url}/admin/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${g.adminKey}` } });
    expect(clear.status).toBe(404);
    expect(((await clear.json()) as { error: { message: string } }).error.message).toContain('no response cache');
  });
});

describe('clearing', () => {
  it('DELETE /admin/cache (admin only) drops every answer, exact and semantic', async () => {
    const g = await gateway({ semantic: { threshold: 0.95 } });
    await chat(g, question('What is the capital of France?'));
    expect((await chat(g, question('what is the capital of france'))).headers.get('x-llmops-cache')).toBe('hit');
    const denied = await fetch(`${g.url}/admin/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${KEY_A}` } });
    expect(denied.status).toBe(403);
    const res = await fetch(`${g.url}/admin/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${g.adminKey}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: 'cache.cleared', backend: 'memory' });
    // Neither the exact entry nor the semantic index answers it any more.
    expect((await chat(g, question('What is the capital of France?'))).headers.get('x-llmops-cache')).toBe('miss');
    expect(upstream.requests).toHaveLength(2);
  });
});
