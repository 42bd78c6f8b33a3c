/**
 * OTLP export: gateway calls reach a local collector mock as GenAI spans with the stored
 * record's trace id, span id and parent; over protobuf and JSON; failed exports are
 * retried; a collector that is down never slows or breaks the gateway, and a full export
 * queue drops and counts.
 */
import OpenAI from 'openai';
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DecodedSpan } from '../../src/otel/otlp-codec.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startMockCollector, type MockCollector } from '../helpers/otlp-collector.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let upstream: MockUpstream;
let collector: MockCollector;

const models = (url: string) => ({
  providers: { openai: { type: 'openai', api_key: 'sk-upstream', base_url: `${url}/v1` }, demo: {} },
  models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }, demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
});

beforeAll(async () => {
  upstream = await startMockUpstream(openAIDialect);
  collector = await startMockCollector();
});
afterAll(async () => {
  await collector.close();
  await upstream.close();
});
beforeEach(() => {
  upstream.setDefault({ text: 'Hello from upstream.', finish: 'stop', usage: { input: 12, output: 7 } });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const spanById = async (id: string): Promise<DecodedSpan> => {
  await expect.poll(() => collector.spans().some((s) => s.spanId === id), { timeout: 5000 }).toBe(true);
  return collector.spans().find((s) => s.spanId === id)!;
};

describe.each([
  { protocol: 'http/protobuf', contentType: 'application/x-protobuf' },
  { protocol: 'http/json', contentType: 'application/json' },
])('export over $protocol', ({ protocol, contentType }) => {
  let t: TestGateway;
  let client: OpenAI;
  beforeAll(async () => {
    t = await startTestGateway({
      ...models(upstream.url),
      environment: 'prod-eu',
      otel: { export: { endpoint: collector.url, protocol, headers: { 'x-collector-token': 'tok-123' }, flush_ms: 20, service_name: 'gw-test' } },
    });
    client = new OpenAI({ apiKey: t.adminKey, baseURL: `${t.url}/v1`, maxRetries: 0 });
  });
  afterAll(() => t.close());

  it('a call becomes a span with GenAI attributes, the record ids and the caller as parent', async () => {
    upstream.enqueue({ text: 'Paris.', usage: { input: 14, output: 8, cached: 4 } });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const { response } = await client.chat.completions
      .create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Capital of France?' }], temperature: 0.3, max_tokens: 50 },
        { headers: { traceparent: `00-${traceId}-${parentId}-01`, 'x-llmops-user': 'u-1', 'x-llmops-feature': 'geo', 'x-llmops-session': 's-9' } },
      )
      .withResponse();
    expect(response.headers.get('x-llmops-trace-id')).toBe(traceId);
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(1);
    const [rec] = await t.gw.store.getTraceCalls(traceId);

    const span = await spanById(rec!.id);
    expect(span).toMatchObject({ traceId, parentSpanId: parentId, name: 'chat gpt-4o-mini', kind: 3, status: { code: 0 } });
    expect(Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6).toBeCloseTo(rec!.latency_ms, 0);
    expect(Number(span.startTimeUnixNano / 1_000_000n)).toBe(rec!.started_at);
    expect(span.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 50,
      'gen_ai.usage.input_tokens': 14,
      'gen_ai.usage.output_tokens': 8,
      'gen_ai.usage.cache_read.input_tokens': 4,
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.stream': false,
      'http.response.status_code': 200,
      'llmops.key_id': 'admin',
      'llmops.user': 'u-1',
      'llmops.feature': 'geo',
      'llmops.session': 's-9',
      'llmops.attempts': 1,
      'llmops.cost_source': 'price_table',
    });
    expect(span.attributes['llmops.cost_usd']).toBeCloseTo(rec!.cost_usd!, 15);
    expect(span.attributes).not.toHaveProperty('error.type');
    expect(span.events).toEqual([expect.objectContaining({ name: 'llmops.attempt', attributes: expect.objectContaining({ 'llmops.provider': 'openai', 'http.response.status_code': 200 }) })]);

    const req = collector.requests.find((r) => r.resourceSpans.some((rs) => rs.scopeSpans.some((ss) => ss.spans.some((s) => s.spanId === rec!.id))))!;
    expect(req.headers['content-type']).toBe(contentType);
    expect(req.headers['x-collector-token']).toBe('tok-123');
    expect(req.resourceSpans[0]!.resource).toMatchObject({ 'service.name': 'gw-test', 'deployment.environment.name': 'prod-eu' });
    expect(req.resourceSpans[0]!.scopeSpans[0]!.scope.name).toBe('llmops');
    if (protocol === 'http/json') {
      // OTLP/JSON: hex ids and int64 as decimal strings.
      const raw = JSON.parse(req.body.toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
      const rawSpan = raw.resourceSpans[0]!.scopeSpans[0]!.spans.find((s) => s.spanId === rec!.id)!;
      expect(rawSpan.traceId).toBe(traceId);
      expect(typeof rawSpan.startTimeUnixNano).toBe('string');
      expect(rawSpan.attributes).toContainEqual({ key: 'gen_ai.usage.input_tokens', value: { intValue: '14' } });
    }
  });

  it('streams and errors: ttft, error.type and error status; a free-form trace id is hashed and kept', async () => {
    upstream.enqueue({ text: 'one two three', usage: { input: 5, output: 3 } });
    const stream = await client.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count' }], stream: true },
      { headers: { 'x-llmops-trace-id': 'order-checkout-77' } },
    );
    for await (const _ of stream) void _;
    upstream.enqueue({ status: 400, errorMessage: 'bad temperature' });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-llmops-trace-id': 'order-checkout-77' } })).rejects.toThrow();

    await expect.poll(async () => (await t.gw.store.getTraceCalls('order-checkout-77')).length).toBe(2);
    const calls = await t.gw.store.getTraceCalls('order-checkout-77');
    const streamed = await spanById(calls.find((c) => c.stream)!.id);
    expect(streamed.traceId).toMatch(/^[\da-f]{32}$/);
    expect(streamed.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'llmops.trace_id': 'order-checkout-77', 'gen_ai.usage.output_tokens': 3 });
    expect(streamed.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);

    const failed = await spanById(calls.find((c) => c.status === 'error')!.id);
    expect(failed.traceId).toBe(streamed.traceId);
    expect(failed.status.code).toBe(2);
    expect(failed.status.message).toContain('bad temperature');
    expect(failed.attributes).toMatchObject({ 'error.type': 'upstream_invalid_request', 'http.response.status_code': 400, 'llmops.attempts': 1 });
  });

  it('spans ingested over OTLP are stored but not exported again', async () => {
    const traceId = 'cd'.repeat(16);
    const res = await fetch(`${t.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId, spanId: 'abcdefabcdefabcd', name: 'app', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] }),
    });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(1);
    // One more gateway call, exported after the ingested span would have been.
    const { response } = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'x' }] }).withResponse();
    const [after] = await (async () => {
      const id = response.headers.get('x-llmops-trace-id')!;
      await expect.poll(async () => (await t.gw.store.getTraceCalls(id)).length).toBe(1);
      return t.gw.store.getTraceCalls(id);
    })();
    await spanById(after!.id);
    expect(collector.spans().some((s) => s.traceId === traceId)).toBe(false);
  });
});

describe('export failures', () => {
  it('retries a batch the collector refuses with 503, then delivers it', async () => {
    const t = await startTestGateway({ ...models(upstream.url), otel: { export: { endpoint: collector.url, flush_ms: 10 } } });
    try {
      collector.failNext(503, 503);
      const before = collector.requests.length;
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      const traceId = res.headers.get('x-llmops-trace-id')!;
      await expect.poll(() => collector.spans().some((s) => s.traceId === traceId), { timeout: 8000 }).toBe(true);
      expect(collector.requests.length - before).toBe(3);
      expect(t.gw.observability.exporter!.stats).toMatchObject({ exported: 1, failed: 0, requestFailures: 2 });
    } finally {
      await t.close();
    }
  });

  it('with the collector down the gateway keeps serving at full speed; failed and dropped spans are counted; close does not hang', async () => {
    const port = await freePort();
    const t = await startTestGateway({
      ...models(upstream.url),
      otel: { export: { endpoint: `http://127.0.0.1:${port}/v1/traces`, flush_ms: 10, batch_size: 2, max_queue: 3, max_retries: 1, timeout_ms: 500 } },
    });
    const exporter = t.gw.observability.exporter!;
    const call = () =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      });
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 12 }, call));
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(performance.now() - started).toBeLessThan(2000);
    await expect.poll(() => exporter.stats.failed, { timeout: 5000 }).toBeGreaterThan(0);
    expect(exporter.stats.dropped).toBeGreaterThan(0);
    expect(exporter.stats.exported).toBe(0);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/^llmops_otel_export_spans_total\{result="failed"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^llmops_otel_export_spans_total\{result="dropped"\} [1-9]\d*$/m);

    const closing = performance.now();
    await t.close();
    expect(performance.now() - closing).toBeLessThan(3000);
    expect(exporter.stats.exported).toBe(0);
    expect(exporter.stats.queued).toBe(0);
    // Every span is accounted for: exported, failed or dropped.
    expect(exporter.stats.failed + exporter.stats.dropped).toBe(12);
  });
});
