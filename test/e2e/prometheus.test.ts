/**
 * Prometheus `GET /metrics` after real calls (success, stream, errors): counters,
 * histograms and their labels, trace-writer figures including dropped traces, bounded
 * labels (unknown models become `other`, no user ids), optional auth, and one registry per
 * gateway.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startTestGateway, waitForTraces, type TestGateway } from '../helpers/gateway.js';

let upstream: MockUpstream;
let t: TestGateway;
let key: { id: string; key: string };

/** Samples of one metric: label sets (as objects) and values. */
function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample whose labels include `labels`; undefined when none does. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = samples(text, name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (hits.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${hits.length} samples`);
  return hits[0]?.value;
}

const scrape = async (url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> => {
  const res = await fetch(`${url}/metrics`, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
};

beforeAll(async () => {
  upstream = await startMockUpstream(openAIDialect);
  t = await startTestGateway({
    providers: { openai: { type: 'openai', api_key: 'sk-upstream', base_url: `${upstream.url}/v1` }, demo: {} },
    models: { 'gpt-4o-mini': { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }, demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
    routing: { retries: 0 },
  });
  const res = await fetch(`${t.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'metrics-app' }),
  });
  key = (await res.json()) as { id: string; key: string };
});
afterAll(async () => {
  await t.close();
  await upstream.close();
});

describe('GET /metrics after calls', () => {
  let text: string;
  beforeAll(async () => {
    const client = new OpenAI({ apiKey: key.key, baseURL: `${t.url}/v1`, maxRetries: 0, defaultHeaders: { 'x-llmops-user': 'user-secret-4711' } });
    upstream.enqueue({ text: 'A.', usage: { input: 100, output: 20, cached: 40, reasoning: 5 } });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a' }], user: 'body-user-0815' });
    upstream.enqueue({ text: 'one two three', usage: { input: 10, output: 3 }, chunkDelayMs: 5 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'b' }], stream: true });
    for await (const _ of stream) void _;
    upstream.enqueue({ status: 500, errorMessage: 'upstream broke' });
    await expect(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'c' }] })).rejects.toThrow();
    // Unknown model names are caller-chosen strings: they must not become label values.
    await expect(client.chat.completions.create({ model: 'made-up-model-9f8e7d', messages: [{ role: 'user', content: 'd' }] })).rejects.toThrow();
    upstream.enqueue({ status: 404, errorMessage: 'no such model' });
    await expect(client.chat.completions.create({ model: 'openai/not-a-real-model-1a2b', messages: [{ role: 'user', content: 'e' }] })).rejects.toThrow();
    await client.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: 'f' }] });
    // A direct provider/model with no price that the provider serves: a real model, so it gets its own label.
    upstream.enqueue({ text: 'ft', usage: { input: 3, output: 1 } });
    await client.chat.completions.create({ model: 'openai/ft-support-v2', messages: [{ role: 'user', content: 'g' }] });
    await waitForTraces(t.gw, 7);
    const s = await scrape(t.url);
    expect(s.status).toBe(200);
    expect(s.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    text = s.text;
  });

  it('counts requests by endpoint, provider, model, key and status', () => {
    const base = { endpoint: 'chat', key: key.id };
    expect(value(text, 'llmops_requests_total', { ...base, provider: 'openai', model: 'gpt-4o-mini', status: '200' })).toBe(2);
    expect(value(text, 'llmops_requests_total', { ...base, provider: 'openai', model: 'gpt-4o-mini', status: '502' })).toBe(1);
    expect(value(text, 'llmops_requests_total', { ...base, provider: 'none', model: 'other', status: '404' })).toBe(1);
    expect(value(text, 'llmops_requests_total', { ...base, provider: 'openai', model: 'other', status: '404' })).toBe(1);
    expect(value(text, 'llmops_requests_total', { ...base, provider: 'demo', model: 'demo', status: '200' })).toBe(1);
    expect(value(text, 'llmops_requests_total', { ...base, provider: 'openai', model: 'openai/ft-support-v2', status: '200' })).toBe(1);
    expect(samples(text, 'llmops_requests_total').reduce((n, s) => n + s.value, 0)).toBe(7);
  });

  it('counts errors by code', () => {
    expect(value(text, 'llmops_errors_total', { provider: 'openai', model: 'gpt-4o-mini', code: 'upstream_error' })).toBe(1);
    expect(value(text, 'llmops_errors_total', { provider: 'none', model: 'other', code: 'model_not_found' })).toBe(1);
    expect(value(text, 'llmops_errors_total', { provider: 'openai', model: 'other', code: 'upstream_not_found' })).toBe(1);
    expect(value(text, 'llmops_upstream_attempts_total', { provider: 'openai', status: '500' })).toBe(1);
  });

  it('has latency and time-to-first-token histograms', () => {
    const ok = { endpoint: 'chat', provider: 'openai', model: 'gpt-4o-mini' };
    expect(value(text, 'llmops_request_duration_seconds_count', { ...ok, stream: 'false' })).toBe(2);
    expect(value(text, 'llmops_request_duration_seconds_count', { ...ok, stream: 'true' })).toBe(1);
    expect(value(text, 'llmops_request_duration_seconds_bucket', { ...ok, stream: 'true', le: '+Inf' })).toBe(1);
    expect(value(text, 'llmops_request_duration_seconds_sum', { ...ok, stream: 'true' })).toBeGreaterThan(0);
    expect(value(text, 'llmops_time_to_first_token_seconds_count', { provider: 'openai', model: 'gpt-4o-mini' })).toBe(1);
    const buckets = samples(text, 'llmops_time_to_first_token_seconds_bucket').map((s) => s.labels.le);
    expect(buckets).toContain('0.1');
  });

  it('counts tokens by type and cost in USD', () => {
    const l = { provider: 'openai', model: 'gpt-4o-mini', key: key.id };
    expect(value(text, 'llmops_tokens_total', { ...l, type: 'input' })).toBe(110);
    expect(value(text, 'llmops_tokens_total', { ...l, type: 'output' })).toBe(23);
    expect(value(text, 'llmops_tokens_total', { ...l, type: 'cached' })).toBe(40);
    expect(value(text, 'llmops_tokens_total', { ...l, type: 'reasoning' })).toBe(5);
    // gpt-4o-mini: $0.15 / 1M input, $0.075 / 1M cached, $0.60 / 1M output.
    const expected = (60 * 0.15 + 40 * 0.075 + 20 * 0.6 + 10 * 0.15 + 3 * 0.6) / 1e6;
    expect(value(text, 'llmops_cost_usd_total', l)).toBeCloseTo(expected, 12);
    // A model with no price is counted as unpriced, never as $0.
    expect(value(text, 'llmops_cost_usd_total', { model: 'openai/ft-support-v2' })).toBeUndefined();
    expect(value(text, 'llmops_unpriced_requests_total', { provider: 'openai', model: 'openai/ft-support-v2' })).toBe(1);
    expect(value(text, 'llmops_unpriced_requests_total', { model: 'demo' })).toBeUndefined();
  });

  it('shows the trace writer and keeps label sets bounded: no user ids, no unknown model names', () => {
    expect(value(text, 'llmops_traces_written_total')).toBeGreaterThanOrEqual(7);
    expect(value(text, 'llmops_traces_dropped_total')).toBe(0);
    expect(value(text, 'llmops_trace_write_failures_total')).toBe(0);
    expect(value(text, 'llmops_trace_queue_size')).toBe(0);
    expect(text).not.toContain('user-secret-4711');
    expect(text).not.toContain('body-user-0815');
    expect(text).not.toContain('made-up-model-9f8e7d');
    expect(text).not.toContain('not-a-real-model-1a2b');
    expect(text).not.toContain(key.key);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('counts spans ingested over OTLP apart from gateway calls', async () => {
    const res = await fetch(`${t.url}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ scopeSpans: [{ spans: [
          { traceId: 'ef'.repeat(16), spanId: '1111111111111111', name: 'llm', startTimeUnixNano: '1', endTimeUnixNano: '2', attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }] },
          { traceId: 'ef'.repeat(16), spanId: '2222222222222222', name: 'step', startTimeUnixNano: '1', endTimeUnixNano: '2' },
          { traceId: 'ef'.repeat(16), spanId: 'nope', name: 'bad', startTimeUnixNano: '1', endTimeUnixNano: '2' },
        ] }] }],
      }),
    });
    expect(res.status).toBe(200);
    const s = (await scrape(t.url)).text;
    expect(value(s, 'llmops_otlp_spans_total', { kind: 'llm' })).toBe(1);
    expect(value(s, 'llmops_otlp_spans_total', { kind: 'span' })).toBe(1);
    expect(value(s, 'llmops_otlp_spans_rejected_total')).toBe(1);
    expect(value(s, 'llmops_otlp_requests_total')).toBe(1);
    expect(samples(s, 'llmops_requests_total').reduce((n, x) => n + x.value, 0)).toBe(7);
  });
});

describe('trace writer overflow, auth, one registry per gateway', () => {
  it('shows dropped traces when the trace queue is full', async () => {
    // The writer waits a minute before writing, so the one-slot queue overflows at once.
    const small = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } }, store: { trace_queue_max: 1, trace_flush_ms: 60_000 } });
    try {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(`${small.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${small.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: `hi ${i}` }] }),
        });
        expect(res.status).toBe(200);
      }
      const s = (await scrape(small.url)).text;
      expect(value(s, 'llmops_traces_dropped_total')).toBe(3);
      expect(value(s, 'llmops_trace_queue_size')).toBe(1);
      expect(value(s, 'llmops_traces_written_total')).toBe(0);
      // Its own registry: the other gateway's calls are not here.
      expect(value(s, 'llmops_requests_total', { provider: 'demo', model: 'demo', key: 'admin', status: '200' })).toBe(4);
      expect(samples(s, 'llmops_requests_total')).toHaveLength(1);
    } finally {
      await small.close();
    }
  });

  it('metrics.auth: true needs a valid key; metrics.enabled: false has no endpoint', async () => {
    const locked = await startTestGateway({ metrics: { auth: true, process_metrics: false }, keys: [{ name: 'scraper', key: 'sk-scraper-0123456789abcdef', models: [] }] });
    const off = await startTestGateway({ metrics: { enabled: false } });
    try {
      const anon = await scrape(locked.url);
      expect(anon.status).toBe(401);
      expect((JSON.parse(anon.text) as { error: { code: string } }).error.code).toBe('missing_api_key');
      expect((await scrape(locked.url, { authorization: 'Bearer sk-wrong-0000000000000000' })).status).toBe(401);
      const ok = await scrape(locked.url, { authorization: 'Bearer sk-scraper-0123456789abcdef' });
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('llmops_traces_dropped_total');
      expect(ok.text).not.toContain('process_cpu_seconds_total');
      expect((await scrape(off.url)).status).toBe(404);
    } finally {
      await locked.close();
      await off.close();
    }
  });
});
