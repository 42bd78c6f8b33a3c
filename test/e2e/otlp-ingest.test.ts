/**
 * OTLP ingest driven by the official OpenTelemetry JS SDK and its OTLP exporters (protobuf,
 * JSON, gzip): an app-like trace — agent root span, retrieval and tool steps, an LLM span
 * with GenAI attributes, and a real gateway call made inside the LLM span carrying
 * `traceparent` — is stored as one tree beside the gateway's own record.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTraceRequest } from '../../src/otel/otlp-codec.js';
import type { TraceRecord } from '../../src/store/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let appKey: { id: string; key: string };

beforeAll(async () => {
  t = await startTestGateway({
    server: { body_limit: '256kb' },
    providers: { demo: {} },
    models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
    traces: { capture: { by_key: { 'redacting-app': 'redacted' } } },
  });
  const res = await fetch(`${t.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'agent-app' }),
  });
  appKey = (await res.json()) as { id: string; key: string };
});
afterAll(() => t.close());

type CompressionOption = NonNullable<ConstructorParameters<typeof ProtoExporter>[0]>['compression'];
const GZIP = 'gzip' as CompressionOption;

const EXPORTERS: Array<{ name: string; make: (url: string, key: string) => SpanExporter }> = [
  { name: 'protobuf', make: (url, key) => new ProtoExporter({ url, headers: { authorization: `Bearer ${key}` } }) },
  { name: 'JSON', make: (url, key) => new HttpJsonExporter({ url, headers: { 'x-api-key': key } }) },
  { name: 'protobuf + gzip', make: (url, key) => new ProtoExporter({ url, headers: { authorization: `Bearer ${key}` }, compression: GZIP }) },
  { name: 'JSON + gzip', make: (url, key) => new HttpJsonExporter({ url, headers: { authorization: `Bearer ${key}` }, compression: GZIP }) },
];

const byName = (calls: TraceRecord[], name: string): TraceRecord => {
  const c = calls.find((x) => x.name === name);
  if (!c) throw new Error(`no span named ${name} in ${calls.map((x) => x.name).join(', ')}`);
  return c;
};

describe.each(EXPORTERS)('official SDK exporter ($name) → POST /v1/traces', ({ make }) => {
  it('stores the whole tree — agent, retrieval, tool, LLM span and the gateway call inside it — with ids, parents, kinds, usage and cost', async () => {
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'support-agent', 'deployment.environment.name': 'staging' }),
      spanProcessors: [new SimpleSpanProcessor(make(`${t.url}/v1/traces`, appKey.key))],
    });
    const tracer = provider.getTracer('agent-app', '1.0.0');
    const under = (span: Span) => trace.setSpan(ROOT_CONTEXT, span);

    const root = tracer.startSpan('agent.run', {
      attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'support', 'user.id': 'user-42', 'session.id': 'sess-7', 'llmops.feature': 'support-chat' },
    });
    const retrieval = tracer.startSpan('retrieve documents', { attributes: { 'db.system.name': 'pgvector', 'retrieval.top_k': 4 } }, under(root));
    retrieval.end();
    const tool = tracer.startSpan(
      'execute_tool lookup_order',
      { attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.provider.name': 'openai', 'gen_ai.tool.name': 'lookup_order' } },
      under(root),
    );
    tool.setStatus({ code: SpanStatusCode.ERROR, message: 'order service timed out' });
    tool.setAttribute('error.type', 'timeout');
    tool.end();

    const llm = tracer.startSpan(
      'chat gpt-4o-mini',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o-mini',
          'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
          'gen_ai.request.temperature': 0.2,
          'gen_ai.request.max_tokens': 256,
          'gen_ai.request.top_p': 0.9,
          'gen_ai.usage.input_tokens': 1000,
          'gen_ai.usage.output_tokens': 200,
          'gen_ai.usage.cache_read.input_tokens': 400,
          'gen_ai.usage.reasoning.output_tokens': 50,
          'gen_ai.response.finish_reasons': ['stop'],
          // Tags are per span (the SDK sends children before parents): the older enduser.id works too.
          'enduser.id': 'user-42',
          'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Where is my order?' }] }]),
        },
      },
      under(root),
    );
    // A real gateway call made inside the LLM span: traceparent makes it the span's child.
    const headers: Record<string, string> = {};
    new W3CTraceContextPropagator().inject(under(llm), headers, { set: (c, k, v) => void ((c as Record<string, string>)[k] = v) });
    expect(headers.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
    const client = new OpenAI({ apiKey: appKey.key, baseURL: `${t.url}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'Where is my order?' }] }, { headers });
    expect(answer.choices[0]?.message.content).toBeTruthy();
    llm.end();

    const other = tracer.startSpan('chat acme-1', {
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'acme', 'gen_ai.request.model': 'acme-1', 'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5 },
    }, under(root));
    other.end();
    root.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = root.spanContext().traceId;
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length, { timeout: 5000 }).toBe(6);
    const calls = await t.gw.store.getTraceCalls(traceId);

    const rootRec = byName(calls, 'agent.run');
    expect(rootRec).toMatchObject({
      id: root.spanContext().spanId,
      trace_id: traceId,
      parent_id: null,
      kind: 'span',
      endpoint: 'span',
      source: 'otlp',
      environment: 'staging',
      key_id: appKey.id,
      user_id: 'user-42',
      session_id: 'sess-7',
      feature: 'support-chat',
      status: 'ok',
      requested_model: null,
      cost_usd: null,
    });
    expect(rootRec.attributes).toMatchObject({ 'gen_ai.agent.name': 'support', 'otel.scope': 'agent-app', 'otel.resource': { 'service.name': 'support-agent' } });
    expect(rootRec.latency_ms).toBeGreaterThanOrEqual(0);
    expect(rootRec.started_at).toBeGreaterThan(Date.now() - 60_000);

    expect(byName(calls, 'retrieve documents')).toMatchObject({ kind: 'span', parent_id: root.spanContext().spanId, attributes: expect.objectContaining({ 'retrieval.top_k': 4 }) });

    // An agent tool step names a provider but is not a model call.
    expect(byName(calls, 'execute_tool lookup_order')).toMatchObject({
      kind: 'span',
      parent_id: root.spanContext().spanId,
      status: 'error',
      error_code: 'timeout',
      error_message: 'order service timed out',
      provider: null,
    });

    const llmRec = byName(calls, 'chat gpt-4o-mini');
    expect(llmRec).toMatchObject({
      id: llm.spanContext().spanId,
      parent_id: root.spanContext().spanId,
      kind: 'llm',
      endpoint: 'chat',
      source: 'otlp',
      provider: 'openai',
      requested_model: 'gpt-4o-mini',
      provider_model: 'gpt-4o-mini-2024-07-18',
      input_tokens: 1000,
      output_tokens: 200,
      cached_tokens: 400,
      reasoning_tokens: 50,
      usage: { input: 1000, output: 200, cached_input: 400, cache_write: 0, reasoning: 50 },
      finish_reason: 'stop',
      request_params: { temperature: 0.2, max_tokens: 256, top_p: 0.9 },
      cost_source: 'price_table',
      user_id: 'user-42',
      environment: 'staging',
    });
    // gpt-4o-mini: $0.15 / 1M input, $0.075 / 1M cached input, $0.60 / 1M output.
    expect(llmRec.cost_usd).toBeCloseTo((600 * 0.15 + 400 * 0.075 + 200 * 0.6) / 1e6, 12);
    expect(llmRec.input_payload).toEqual([{ role: 'user', parts: [{ type: 'text', content: 'Where is my order?' }] }]);
    expect(llmRec.attributes).not.toHaveProperty('gen_ai.input.messages');

    const unpriced = byName(calls, 'chat acme-1');
    expect(unpriced).toMatchObject({ kind: 'llm', input_tokens: 10, output_tokens: 5, cost_usd: null, cost: null, cost_source: null });

    // The gateway's own record joins the trace as the LLM span's child.
    const gatewayRec = calls.find((c) => c.source === 'gateway')!;
    expect(gatewayRec).toMatchObject({ trace_id: traceId, parent_id: llm.spanContext().spanId, kind: 'llm', requested_model: 'demo', provider: 'demo', key_id: appKey.id, status: 'ok' });
  });
});

describe('POST /v1/traces: auth, bad bodies, partial success', () => {
  const url = () => `${t.url}/v1/traces`;
  const spanJson = (traceId: string, spanId: string, extra: Record<string, unknown> = {}) => ({
    traceId,
    spanId,
    name: 'step',
    kind: 1,
    startTimeUnixNano: '1700000000000000000',
    endTimeUnixNano: '1700000000250000000',
    ...extra,
  });
  const body = (spans: unknown[]) => JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 's' }, spans }] }] });

  it('401 in the OpenAI error shape without a key, or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer sk-llmops-wrong-key-000000' }] as Record<string, string>[]) {
      const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body([]) });
      expect(res.status).toBe(401);
      const err = ((await res.json()) as { error: Record<string, unknown> }).error;
      expect(err).toMatchObject({ type: 'authentication_error', code: expect.stringMatching(/^(missing|invalid)_api_key$/), param: null });
      expect(typeof err.message).toBe('string');
    }
  });

  it('the official exporter reports failure on 401 and nothing is stored', async () => {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
    provider.getTracer('x').startSpan('unauthorized').end();
    const spans = memory.getFinishedSpans();
    const exporter = new ProtoExporter({ url: url(), headers: { authorization: 'Bearer sk-llmops-not-a-key-0000000' } });
    const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(String(result.error)).toMatch(/Unauthorized|401/);
    await exporter.shutdown();
    expect(await t.gw.store.getTraceCalls(spans[0]!.spanContext().traceId)).toEqual([]);
  });

  it('400 with a clear message for malformed protobuf, JSON, gzip; 415 for other content types; the gateway keeps serving', async () => {
    const send = (b: Uint8Array | string, headers: Record<string, string>) =>
      fetch(url(), { method: 'POST', headers: { authorization: `Bearer ${appKey.key}`, ...headers }, body: b });

    let res = await send(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]), { 'content-type': 'application/x-protobuf' });
    expect(res.status).toBe(400);
    let err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('invalid_request');
    expect(err.message).toMatch(/protobuf ExportTraceServiceRequest/);

    res = await send('{"resourceSpans": [', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('invalid_json');

    res = await send(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 42 }] }] }] }), { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err.message).toContain('resourceSpans.0.scopeSpans.0.spans.0.traceId');

    // An attribute value nested 5,000 levels deep (arrays of arrays): 400, not a stack overflow.
    const deep = `${'{"arrayValue":{"values":['.repeat(5_000)}{"stringValue":"x"}${']}}'.repeat(5_000)}`;
    const span = `{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"x","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{"key":"deep","value":${deep}}]}`;
    res = await send(`{"resourceSpans":[{"scopeSpans":[{"spans":[${span}]}]}]}`, { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err).toMatchObject({ code: 'invalid_request', message: 'POST /v1/traces: the body is nested more than 64 levels deep' });

    res = await send(Buffer.from('definitely not gzip'), { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/not valid gzip/);

    res = await send('a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');

    // A gzip bomb is cut at the body limit.
    res = await send(gzipSync(Buffer.alloc(2 * 1024 * 1024, 0x20)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);

    const health = await fetch(`${t.url}/health`);
    expect(health.status).toBe(200);
  });

  it('answers a partial success (JSON) naming the rejected spans and keeps the valid ones', async () => {
    const traceId = 'aa'.repeat(16);
    const res = await fetch(url(), {
      method: 'POST',
      headers: { authorization: `Bearer ${appKey.key}`, 'content-type': 'application/json' },
      body: body([
        spanJson(traceId, '0102030405060708'),
        spanJson(traceId, 'bad'),
        spanJson('00'.repeat(16), '1112131415161718'),
        spanJson(traceId, '0102030405060708'),
      ]),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const out = (await res.json()) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } };
    expect(Number(out.partialSuccess?.rejectedSpans)).toBe(3);
    expect(out.partialSuccess?.errorMessage).toMatch(/invalid span id 'bad'/);
    expect(out.partialSuccess?.errorMessage).toMatch(/invalid trace id/);
    expect(out.partialSuccess?.errorMessage).toMatch(/duplicate span id/);
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(1);
    const [rec] = await t.gw.store.getTraceCalls(traceId);
    expect(rec).toMatchObject({ id: '0102030405060708', started_at: 1_700_000_000_000, latency_ms: 250, kind: 'span', environment: null });
  });

  it('a retried export (same spans again) is acknowledged and stored once; the trace writer keeps working', async () => {
    const traceId = 'ce'.repeat(16);
    const payload = body([spanJson(traceId, '3132333435363738'), spanJson(traceId, '4142434445464748', { parentSpanId: '3132333435363738' })]);
    const post = () => fetch(url(), { method: 'POST', headers: { authorization: `Bearer ${appKey.key}`, 'content-type': 'application/json' }, body: payload });
    const first = await post();
    expect(await first.json()).toEqual({});
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(2);
    const again = await post();
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({});
    const written = t.gw.sink.stats.written;
    await new Promise((r) => setTimeout(r, 100));
    expect(t.gw.sink.stats.writeFailures).toBe(0);
    expect(t.gw.sink.stats.written).toBe(written);
    expect(await t.gw.store.getTraceCalls(traceId)).toHaveLength(2);
    expect(t.gw.observability.ingest!.stats.duplicates).toBeGreaterThanOrEqual(2);
  });

  it('answers protobuf with a protobuf ExportTraceServiceResponse; the capture policy applies to span content', async () => {
    const key = (await (
      await fetch(`${t.url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'redacting-app' }),
      })
    ).json()) as { key: string };
    const traceId = 'bb'.repeat(16);
    const req = encodeTraceRequest(
      {
        resource: [],
        scope: { name: 'x', version: '' },
        spans: [
          {
            traceId,
            spanId: '2122232425262728',
            parentSpanId: null,
            name: 'chat gpt-4o',
            kind: 3,
            startTimeUnixNano: 1_700_000_000_000_000_000n,
            endTimeUnixNano: 1_700_000_001_000_000_000n,
            attributes: [
              { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
              { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
              { key: 'gen_ai.input.messages', value: { stringValue: '[{"role":"user","content":"mail me at jane@example.com"}]' } },
              { key: 'gen_ai.system_instructions', value: { stringValue: 'Reply to jane@example.com' } },
            ],
            events: [],
            status: { code: 0, message: '' },
          },
        ],
      },
      'protobuf',
    );
    const res = await fetch(url(), { method: 'POST', headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/x-protobuf' }, body: req });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-protobuf');
    expect((await res.arrayBuffer()).byteLength).toBe(0); // full success: an empty ExportTraceServiceResponse
    await expect.poll(async () => (await t.gw.store.getTraceCalls(traceId)).length).toBe(1);
    const [rec] = await t.gw.store.getTraceCalls(traceId);
    expect(rec!.capture).toBe('redacted');
    expect(JSON.stringify(rec)).not.toContain('jane@example.com');
    expect(rec!.input_payload).toEqual([{ role: 'user', content: 'mail me at <EMAIL_ADDRESS>' }]);
    expect(rec!.attributes?.['gen_ai.system_instructions']).toBe('Reply to <EMAIL_ADDRESS>');
    expect(rec!.latency_ms).toBe(1000);
  });
});

