/**
 * Routing and resilience through the real gateway and mock upstreams: retries with
 * Retry-After, fallback on 429/5xx/timeouts/connection errors but not on caller errors,
 * context-length fallback, the circuit breaker, strategies, and streaming faults.
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TraceRecord } from '../../src/store/types.js';
import { parseSse } from '../../src/sse.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let primary: MockUpstream;
let secondary: MockUpstream;
let bigContext: MockUpstream;
let deadPort: number;
const gateways: TestGateway[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  primary = await startMockUpstream(openAIDialect);
  secondary = await startMockUpstream(openAIDialect);
  bigContext = await startMockUpstream(openAIDialect);
  deadPort = await freePort();
});
afterAll(async () => {
  await Promise.all([primary.close(), secondary.close(), bigContext.close()]);
});
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
beforeEach(() => {
  for (const m of [primary, secondary, bigContext]) m.requests.length = 0;
  primary.setDefault({ text: 'from primary', usage: { input: 3, output: 2 } });
  secondary.setDefault({ text: 'from secondary', usage: { input: 3, output: 2 } });
  bigContext.setDefault({ text: 'from big context', usage: { input: 3, output: 3 } });
});

interface GatewayOptions {
  strategy?: 'fallback' | 'weighted' | 'latency';
  retries?: number;
  primaryUrl?: string;
  breaker?: Record<string, number>;
  routing?: Record<string, unknown>;
  weights?: [number, number];
  primaryTimeouts?: { timeout_ms?: number; ttfb_timeout_ms?: number; stream_idle_timeout_ms?: number };
  random?: () => number;
}

async function gateway(o: GatewayOptions = {}): Promise<TestGateway> {
  const g = await startTestGateway(
    {
      providers: {
        p1: { type: 'openai', api_key: 'k1', base_url: `${o.primaryUrl ?? primary.url}/v1` },
        p2: { type: 'openai', api_key: 'k2', base_url: `${secondary.url}/v1` },
        big: { type: 'openai', api_key: 'k3', base_url: `${bigContext.url}/v1` },
      },
      routing: {
        retries: o.retries ?? 1,
        backoff_base_ms: 5,
        backoff_max_ms: 20,
        max_retry_after_ms: 3000,
        circuit_breaker: { failure_threshold: 50, min_requests: 1000, cooldown_ms: 60_000, ...(o.breaker ?? {}) },
        ...(o.routing ?? {}),
      },
      models: {
        chat: {
          strategy: o.strategy ?? 'fallback',
          targets: [
            { provider: 'p1', model: 'm1', ...(o.weights ? { weight: o.weights[0] } : {}), ...(o.primaryTimeouts ?? {}) },
            { provider: 'p2', model: 'm2', ...(o.weights ? { weight: o.weights[1] } : {}) },
          ],
          context_fallback: [{ provider: 'big', model: 'm-1m' }],
        },
      },
    },
    o.random ? { random: o.random } : {},
  );
  gateways.push(g);
  return g;
}

async function chat(g: TestGateway, body: Record<string, unknown> = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hello' }], ...body }),
    ...init,
  });
}

async function traceOf(g: TestGateway, res: Response): Promise<TraceRecord> {
  const id = res.headers.get('x-llmops-trace-id')!;
  await expect.poll(async () => (await g.gw.store.getTraceCalls(id)).length, { timeout: 3000 }).toBe(1);
  return (await g.gw.store.getTraceCalls(id))[0]!;
}

const content = async (res: Response): Promise<string> =>
  ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;

describe('retries and fallback', () => {
  it('retries a 503 on the same target, then falls back, and the trace lists every attempt', async () => {
    const g = await gateway({ retries: 1 });
    primary.enqueue({ status: 503, errorMessage: 'overloaded' }, { status: 503, errorMessage: 'overloaded again' });
    const res = await chat(g);
    expect(res.status).toBe(200);
    expect(await content(res)).toBe('from secondary');
    expect(res.headers.get('x-llmops-provider')).toBe('p2');
    expect(primary.requests).toHaveLength(2);
    const t = await traceOf(g, res);
    expect(t.status).toBe('ok');
    expect(t.provider).toBe('p2');
    expect(t.attempts.map((a) => [a.provider, a.status, a.error_code ?? null])).toEqual([
      ['p1', 503, 'upstream_overloaded'],
      ['p1', 503, 'upstream_overloaded'],
      ['p2', 200, null],
    ]);
  });

  it('honours Retry-After before retrying the same target', async () => {
    const g = await gateway({ retries: 1 });
    primary.enqueue({ status: 429, retryAfter: '1', errorMessage: 'slow down' });
    const t0 = Date.now();
    const res = await chat(g);
    expect(res.status).toBe(200);
    expect(await content(res)).toBe('from primary');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(primary.requests).toHaveLength(2);
    expect(secondary.requests).toHaveLength(0);
  });

  it('does not wait for a Retry-After longer than max_retry_after_ms: it falls back at once', async () => {
    const g = await gateway({ retries: 3 });
    primary.enqueue({ status: 429, retryAfter: '120', errorMessage: 'quota' });
    const t0 = Date.now();
    const res = await chat(g);
    expect(await content(res)).toBe('from secondary');
    expect(Date.now() - t0).toBeLessThan(900);
    expect(primary.requests).toHaveLength(1);
  });

  it('when every target is rate limited, the client gets 429 with Retry-After', async () => {
    const g = await gateway({ retries: 0 });
    primary.enqueue({ status: 429, retryAfter: '2' });
    secondary.enqueue({ status: 429, retryAfter: '2' });
    const res = await chat(g);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('2');
    const body = (await res.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: 'upstream_rate_limited', type: 'rate_limit_error' });
  });

  it('does not fall back on a caller error (400): the provider message reaches the client', async () => {
    const g = await gateway();
    primary.enqueue({ status: 400, errorMessage: "'messages' is malformed" });
    const res = await chat(g);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("'messages' is malformed");
    expect(primary.requests).toHaveLength(1);
    expect(secondary.requests).toHaveLength(0);
  });

  it.each([401, 403, 404])('does not fall back on an upstream %i', async (status) => {
    const g = await gateway();
    primary.enqueue({ status, errorMessage: `upstream says ${status}` });
    const res = await chat(g);
    expect(res.status).toBe(status === 404 ? 404 : 502);
    expect(secondary.requests).toHaveLength(0);
  });

  it('falls back on a connection refused and on a time-to-first-byte timeout', async () => {
    const refused = await gateway({ primaryUrl: `http://127.0.0.1:${deadPort}`, retries: 0 });
    const r1 = await chat(refused);
    expect(await content(r1)).toBe('from secondary');
    expect((await traceOf(refused, r1)).attempts[0]?.error_code).toBe('upstream_unreachable');

    const slow = await gateway({ retries: 0, primaryTimeouts: { ttfb_timeout_ms: 100 } });
    primary.enqueue({ delayMs: 600 });
    const t0 = Date.now();
    const r2 = await chat(slow);
    expect(await content(r2)).toBe('from secondary');
    expect(Date.now() - t0).toBeLessThan(550);
    expect((await traceOf(slow, r2)).attempts[0]?.error_code).toBe('upstream_timeout');
  });

  it('enforces the total timeout on a stream that stalls', async () => {
    const g = await gateway({ retries: 0, primaryTimeouts: { timeout_ms: 300 } });
    primary.enqueue({ text: 'a b c d e f g h i j', chunkDelayMs: 100 });
    const res = await chat(g, { stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"code":"upstream_timeout"');
    expect(text).not.toContain('[DONE]');
  });

  it('an in-process provider (demo) that outlasts its timeout fails as a timeout, not an internal error', async () => {
    // Bug: the demo provider's AbortError was recorded as a 500 internal_error.
    const g = await startTestGateway({
      providers: { slow: { type: 'demo', latency_ms: 2000 } },
      routing: { retries: 0 },
      models: { chat: { targets: [{ provider: 'slow', model: 'demo-chat', timeout_ms: 100 }] } },
    });
    gateways.push(g);
    const res = await chat(g);
    expect(res.status).toBe(504);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('upstream_timeout');
    const t = await traceOf(g, res);
    expect(t).toMatchObject({ status: 'error', error_code: 'upstream_timeout', http_status: 504 });
    expect(t.attempts[0]?.error_code).toBe('upstream_timeout');
  });

  it('falls back to the context_fallback target when the request is too long', async () => {
    const g = await gateway();
    const tooLong = { status: 400, errorCode: 'context_length_exceeded', errorMessage: "This model's maximum context length is 8192 tokens" };
    primary.enqueue(tooLong);
    const res = await chat(g);
    expect(await content(res)).toBe('from big context');
    expect(res.headers.get('x-llmops-provider')).toBe('big');
    expect(primary.requests).toHaveLength(1);
    expect(secondary.requests).toHaveLength(0);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, skips the target, then probes after the cooldown and closes', async () => {
    const g = await gateway({ retries: 0, breaker: { failure_threshold: 2, cooldown_ms: 300 } });
    primary.setDefault({ status: 500, errorMessage: 'down' });
    await chat(g);
    await chat(g);
    expect(primary.requests).toHaveLength(2);
    expect(g.gw.breaker.state('p1/m1')).toBe('open');
    const skipped = await chat(g);
    expect(await content(skipped)).toBe('from secondary');
    expect(primary.requests).toHaveLength(2); // not called while open
    expect((await traceOf(g, skipped)).attempts[0]).toMatchObject({ provider: 'p1', error_code: 'circuit_open' });

    await new Promise((r) => setTimeout(r, 350));
    primary.setDefault({ text: 'from primary', usage: { input: 3, output: 2 } });
    const probe = await chat(g);
    expect(await content(probe)).toBe('from primary');
    expect(g.gw.breaker.state('p1/m1')).toBe('closed');
  });

  it('opens on the error rate over the window', async () => {
    const g = await gateway({ retries: 0, breaker: { failure_threshold: 100, error_rate_threshold: 0.5, min_requests: 4, window_ms: 10_000 } });
    primary.enqueue({ text: 'ok' }, { status: 500 }, { text: 'ok' }, { status: 500 });
    for (let i = 0; i < 4; i++) await chat(g);
    expect(g.gw.breaker.state('p1/m1')).toBe('open');
  });

  it('answers 503 when every target is open', async () => {
    const g = await gateway({ retries: 0, breaker: { failure_threshold: 1, cooldown_ms: 60_000 } });
    primary.setDefault({ status: 500 });
    secondary.setDefault({ status: 500 });
    await chat(g);
    const res = await chat(g);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('all_targets_unavailable');
  });
});

describe('strategies', () => {
  it('weighted: the first pick follows the weights', async () => {
    // random() = 0.5 → with weights 1:3 the cumulative split is 0.25, so p2 is picked first.
    const g = await gateway({ strategy: 'weighted', weights: [1, 3], random: () => 0.5 });
    expect(await content(await chat(g))).toBe('from secondary');
    const g2 = await gateway({ strategy: 'weighted', weights: [1, 3], random: () => 0.1 });
    expect(await content(await chat(g2))).toBe('from primary');
  });

  it('latency: prefers the target with the lower recent latency', async () => {
    const g = await gateway({ strategy: 'latency' });
    primary.setDefault({ text: 'from primary', delayMs: 60 });
    // Both are unmeasured at first; after one call each, the faster one wins.
    await chat(g);
    await chat(g);
    const picks = [];
    for (let i = 0; i < 5; i++) picks.push(await content(await chat(g)));
    expect(picks.every((p) => p === 'from secondary')).toBe(true);
  });

  it('provider/model routes straight to a provider', async () => {
    const g = await gateway();
    const res = await chat(g, { model: 'p2/some-model' });
    expect(await content(res)).toBe('from secondary');
    expect((secondary.requests[0]!.body as { model: string }).model).toBe('some-model');
  });
});

describe('streaming faults', () => {
  it('falls back when a stream fails before its first byte', async () => {
    const g = await gateway({ retries: 0 });
    primary.enqueue({ status: 500 });
    const res = await chat(g, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmops-provider')).toBe('p2');
    expect(await res.text()).toContain('data: [DONE]');
  });

  it('a stream that breaks mid-way ends with an error event, no fallback, and the trace records it', async () => {
    const g = await gateway({ retries: 2 });
    primary.enqueue({ text: 'one two three four five six seven', truncateAfterEvents: 4 });
    const res = await chat(g, { stream: true });
    const events = [];
    for await (const ev of parseSse(res.body as AsyncIterable<Uint8Array>)) events.push(ev.data);
    const last = JSON.parse(events.at(-1)!) as { error?: { code: string } };
    expect(last.error?.code).toBe('upstream_stream_error');
    expect(events).not.toContain('[DONE]');
    expect(secondary.requests).toHaveLength(0);
    expect(primary.requests).toHaveLength(1);
    const t = await traceOf(g, res);
    expect(t).toMatchObject({ status: 'error', error_code: 'upstream_stream_error', stream: true, provider: 'p1' });
    // Usage was never reported, so it was counted and marked estimated.
    expect(t.tokens_estimated).toBe(true);
    expect(t.output_tokens).toBeGreaterThan(0);
  });

  it('stream_idle_timeout_ms: a stream silent that long after it started ends with an upstream_timeout error event, recorded; without it the pause is waited out', async () => {
    const g = await gateway({ retries: 2, primaryTimeouts: { stream_idle_timeout_ms: 300 } });
    primary.enqueue({ text: 'one two three four five', stallAfterEvents: { events: 3, ms: 3000 } });
    const t0 = performance.now();
    const res = await chat(g, { stream: true });
    const events = [];
    for await (const ev of parseSse(res.body as AsyncIterable<Uint8Array>)) events.push(ev.data);
    // Bug: only the attempt's total timeout (10 minutes by default) ended a stream gone silent.
    expect(performance.now() - t0).toBeLessThan(2000);
    const last = JSON.parse(events.at(-1)!) as { error?: { code: string; message: string } };
    expect(last.error?.code).toBe('upstream_timeout');
    expect(last.error?.message).toContain('the stream stalled: nothing for 300 ms');
    expect(secondary.requests).toHaveLength(0); // the client already had part of the answer
    expect(await traceOf(g, res)).toMatchObject({ status: 'error', error_code: 'upstream_timeout', stream: true, provider: 'p1' });

    const patient = await gateway({ retries: 0 });
    primary.enqueue({ text: 'one two three', stallAfterEvents: { events: 2, ms: 600 } });
    const text = await (await chat(patient, { stream: true })).text();
    expect(text).toContain('data: [DONE]');
    expect(text).not.toContain('"error"');
  });

  it('a malformed event mid-stream ends the stream with an error event', async () => {
    const g = await gateway();
    primary.enqueue({ text: 'one two three four', malformedAfterEvents: 2 });
    const text = await (await chat(g, { stream: true })).text();
    expect(text).toContain('"code":"upstream_stream_error"');
  });

  it('an upstream event that never ends is cut at the limit: an error event, a trace, and the gateway stays responsive', async () => {
    const g = await gateway();
    primary.enqueue({ text: 'one two three four', endlessLineAfterEvents: { events: 2, mib: 40 } });
    const res = await chat(g, { stream: true });
    const text = await res.text();
    expect(text).toContain('"code":"upstream_bad_response"');
    expect(text).toContain('an SSE event longer than 32 MiB');
    expect(text.length).toBeLessThan(64 * 1024); // the endless line itself never reached the client
    expect((await traceOf(g, res))).toMatchObject({ status: 'error', error_code: 'upstream_bad_response' });
    expect((await fetch(`${g.url}/health`)).status).toBe(200);
  }, 30_000);

  it('a client that disconnects aborts the upstream request, and the call is traced as 499', async () => {
    const g = await gateway();
    primary.enqueue({ text: 'a b c d e f g h i j k l m n o p q r s t', chunkDelayMs: 40 });
    const abortedBefore = primary.aborted;
    const ctl = new AbortController();
    const res = await chat(g, { stream: true }, { signal: ctl.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ctl.abort();
    await expect.poll(() => primary.aborted, { timeout: 3000 }).toBe(abortedBefore + 1);
    const t = await traceOf(g, res);
    expect(t).toMatchObject({ status: 'error', error_code: 'client_closed_request', http_status: 499 });
  });

  it('a client that gives up on a non-streaming call aborts the upstream request too', async () => {
    const g = await gateway();
    primary.enqueue({ text: 'late', delayMs: 400 });
    const abortedBefore = primary.aborted;
    const ctl = new AbortController();
    const pending = chat(g, {}, { signal: ctl.signal }).catch((err: unknown) => err);
    await expect.poll(() => primary.requests.length).toBe(1);
    ctl.abort();
    await pending;
    await expect.poll(() => primary.aborted, { timeout: 3000 }).toBe(abortedBefore + 1);
    expect(secondary.requests).toHaveLength(0);
  });
});
