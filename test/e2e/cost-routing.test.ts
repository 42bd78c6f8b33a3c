/**
 * Cost-aware routing and output control through the real gateway and mock upstreams: the
 * `cost` strategy's order and capability filter, `complexity` tiers, output caps and
 * context trimming, each proven by what reached the upstream and what the trace recorded.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/sse.js';
import type { TraceRecord } from '../../src/store/types.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';

let big: MockUpstream;
let small: MockUpstream;
let g: TestGateway;

beforeAll(async () => {
  big = await startMockUpstream(openAIDialect);
  small = await startMockUpstream(openAIDialect);
  g = await startTestGateway({
    providers: {
      big: { type: 'openai', api_key: 'k1', base_url: `${big.url}/v1` },
      small: { type: 'openai-compatible', api_key: 'k2', base_url: `${small.url}/v1` },
    },
    routing: { retries: 0, circuit_breaker: { failure_threshold: 1, cooldown_ms: 60_000 } },
    models: {
      // Config order puts the expensive target first: the cost strategy must not care.
      cheapest: {
        strategy: 'cost',
        targets: [
          { provider: 'big', model: 'gpt-4o' },
          { provider: 'small', model: 'gpt-4o-mini', tools: false, context_window: 2000 },
        ],
      },
      'text-only': { strategy: 'cost', targets: [{ provider: 'small', model: 'gpt-3.5-turbo' }] },
      auto: {
        strategy: 'complexity',
        tiers: [
          { name: 'small', max_score: 0.3, targets: [{ provider: 'small', model: 'gpt-4o-mini' }] },
          { name: 'large', targets: [{ provider: 'big', model: 'gpt-4o' }] },
        ],
      },
      // The small tier cannot call tools; the large one cannot read images.
      'auto-limited': {
        strategy: 'complexity',
        tiers: [
          { name: 'small', max_score: 0.3, targets: [{ provider: 'small', model: 'gpt-4o-mini', tools: false }] },
          { name: 'large', targets: [{ provider: 'big', model: 'gpt-4o', vision: false }] },
        ],
      },
      capped: {
        max_output_tokens: 256,
        targets: [{ provider: 'big', model: 'gpt-4o' }],
      },
      'capped-small': { targets: [{ provider: 'small', model: 'llama', max_output_tokens: 64 }] },
      trimmed: {
        trim: { max_input_tokens: 200, keep_recent: 2 },
        targets: [{ provider: 'small', model: 'llama' }],
      },
    },
  });
});
afterAll(async () => {
  await g.close();
  await Promise.all([big.close(), small.close()]);
});
beforeEach(() => {
  for (const m of [big, small]) m.requests.length = 0;
  big.setDefault({ text: 'from big', usage: { input: 10, output: 5 } });
  small.setDefault({ text: 'from small', usage: { input: 10, output: 5 } });
});
afterEach(() => {
  g.gw.breaker.onSuccess('small/gpt-4o-mini');
});

async function chat(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
}

async function traceOf(res: Response): Promise<TraceRecord> {
  const id = res.headers.get('x-llmops-trace-id')!;
  await expect.poll(async () => (await g.gw.store.getTraceCalls(id)).length, { timeout: 3000 }).toBe(1);
  return (await g.gw.store.getTraceCalls(id))[0]!;
}

const upstreamBody = (m: MockUpstream): Record<string, unknown> => m.requests.at(-1)!.body as Record<string, unknown>;

describe('cost strategy', () => {
  it('sends a plain request to the cheapest target and records the estimated order', async () => {
    const res = await chat({ model: 'cheapest' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmops-model')).toBe('gpt-4o-mini');
    expect(small.requests).toHaveLength(1);
    expect(big.requests).toHaveLength(0);
    const t = await traceOf(res);
    const order = t.attributes!['llmops.routing.cost_order'] as Array<{ target: string; estimated_usd: number }>;
    expect(order.map((o) => o.target)).toEqual(['small/gpt-4o-mini', 'big/gpt-4o']);
    expect(order[0]!.estimated_usd).toBeLessThan(order[1]!.estimated_usd);
    expect(t.attributes!['llmops.routing.strategy']).toBe('cost');
  });

  it('skips a target that lacks what the request needs (tools, context window)', async () => {
    const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const res = await chat({ model: 'cheapest', tools });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmops-model')).toBe('gpt-4o');
    expect(small.requests).toHaveLength(0);
    const t = await traceOf(res);
    expect(t.attributes!['llmops.routing.excluded']).toEqual([{ target: 'small/gpt-4o-mini', reason: 'no tool support' }]);

    const long = await chat({ model: 'cheapest', messages: [{ role: 'user', content: 'lorem ipsum dolor '.repeat(1000) }] });
    expect(long.status).toBe(200);
    expect(long.headers.get('x-llmops-model')).toBe('gpt-4o');
  });

  it('falls back to the next cheapest when the cheapest fails, and puts it last while its circuit is open', async () => {
    small.enqueue({ status: 503, errorMessage: 'down' });
    const res = await chat({ model: 'cheapest' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmops-model')).toBe('gpt-4o');
    const next = await chat({ model: 'cheapest' });
    const t = await traceOf(next);
    expect((t.attributes!['llmops.routing.cost_order'] as Array<{ target: string }>).map((o) => o.target)).toEqual(['big/gpt-4o', 'small/gpt-4o-mini']);
    expect(t.attempts.map((a) => a.model)).toEqual(['gpt-4o']);
  });

  it('answers a request no target can serve with a 400 in the OpenAI error shape', async () => {
    const res = await chat({ model: 'text-only', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; type: string; param: string; message: string } };
    expect(body.error).toMatchObject({ code: 'no_capable_target', type: 'invalid_request_error', param: 'messages' });
    expect(body.error.message).toContain('small/gpt-3.5-turbo (no image input)');
    expect(small.requests).toHaveLength(0);
    const t = await traceOf(res);
    expect(t.error_code).toBe('no_capable_target');
    expect(t.attributes!['llmops.routing.excluded']).toEqual([{ target: 'small/gpt-3.5-turbo', reason: 'no image input' }]);
  });
});

describe('complexity strategy', () => {
  it('sends an easy prompt to the small tier and a hard one to the large tier, and the trace says why', async () => {
    const easy = await chat({ model: 'auto', messages: [{ role: 'user', content: 'What is the capital of France?' }] });
    expect(easy.headers.get('x-llmops-provider')).toBe('small');
    const hard = await chat({
      model: 'auto',
      messages: [{ role: 'user', content: 'Analyze this step by step and prove it is correct:\n```ts\nexport function f(xs: number[]) { return xs.sort(); }\n```\nThen explain why the sort is wrong for numbers.' }],
    });
    expect(hard.headers.get('x-llmops-provider')).toBe('big');
    expect(upstreamBody(big).model).toBe('gpt-4o');
    const te = await traceOf(easy);
    const th = await traceOf(hard);
    expect(te.attributes).toMatchObject({ 'llmops.routing.strategy': 'complexity', 'llmops.routing.tier': 'small' });
    expect(th.attributes).toMatchObject({ 'llmops.routing.tier': 'large' });
    expect(th.attributes!['llmops.routing.complexity_score']).toBeGreaterThan(0.3);
    expect(th.attributes!['llmops.routing.complexity_features']).toMatchObject({ depth: 0, tools: 0 });
  });
});

describe('complexity strategy and what targets can do', () => {
  const tools = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
  const hardText = 'Analyze this step by step and prove it is correct:\n```ts\nexport function f(xs: number[]) { return xs.sort(); }\n```\nThen explain why the sort is wrong for numbers.';
  const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };

  it('escalates an easy request its tier cannot serve, and the trace names the target left out and why', async () => {
    // Bug: complexity tiers skipped the capability filter (tool requests went to a tier without tools).
    const res = await chat({ model: 'auto-limited', messages: [{ role: 'user', content: 'What is the capital of France?' }], tools });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmops-provider')).toBe('big');
    expect(small.requests).toHaveLength(0);
    const t = await traceOf(res);
    expect(t.attributes).toMatchObject({ 'llmops.routing.tier': 'small', 'llmops.routing.excluded': [{ target: 'small/gpt-4o-mini', reason: 'no tool support' }] });
  });

  it('serves a hard request that only a smaller tier can read from that tier, rather than failing', async () => {
    const res = await chat({ model: 'auto-limited', messages: [{ role: 'user', content: [{ type: 'text', text: hardText }, image] }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llmops-provider')).toBe('small');
    expect(big.requests).toHaveLength(0);
    const t = await traceOf(res);
    expect(t.attributes).toMatchObject({ 'llmops.routing.tier': 'large', 'llmops.routing.excluded': [{ target: 'big/gpt-4o', reason: 'no image input' }] });
  });

  it('refuses a request no tier can serve, naming every target and its reason', async () => {
    const res = await chat({ model: 'auto-limited', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, image] }], tools });
    expect(res.status).toBe(400);
    const err = ((await res.json()) as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('no_capable_target');
    expect(err.message).toContain('small/gpt-4o-mini (no tool support)');
    expect(err.message).toContain('big/gpt-4o (no image input)');
    expect(big.requests).toHaveLength(0);
    expect(small.requests).toHaveLength(0);
  });
});

describe('output caps', () => {
  it('lowers a larger max_tokens and sets a missing one, and records both', async () => {
    const res = await chat({ model: 'capped', max_tokens: 5000 });
    expect(res.status).toBe(200);
    expect(upstreamBody(big).max_tokens).toBe(256);
    const t = await traceOf(res);
    expect(t.request_params).toMatchObject({ max_tokens: 5000 }); // what the caller asked for
    expect(t.attributes).toMatchObject({ 'llmops.routing.max_tokens_requested': 5000, 'llmops.routing.max_tokens_applied': 256 });

    await chat({ model: 'capped' });
    expect(upstreamBody(big).max_completion_tokens).toBe(256); // OpenAI's own field for OpenAI
    expect(upstreamBody(big).max_tokens).toBeUndefined();

    await chat({ model: 'capped', max_completion_tokens: 100 });
    expect(upstreamBody(big).max_completion_tokens).toBe(100);
  });

  it('applies a per-target cap on a stream too', async () => {
    const res = await chat({ model: 'capped-small', stream: true });
    expect(res.status).toBe(200);
    const events: string[] = [];
    for await (const ev of parseSse(res.body as AsyncIterable<Uint8Array>)) events.push(ev.data);
    expect(events.at(-1)).toBe('[DONE]');
    expect(upstreamBody(small).max_tokens).toBe(64);
  });
});

describe('context trimming', () => {
  it('sends the system prompt and the latest turns only, and the trace counts what was dropped', async () => {
    const messages: Array<{ role: string; content: string }> = [{ role: 'system', content: 'You are a helpful assistant.' }];
    for (let i = 0; i < 8; i++) {
      messages.push({ role: 'user', content: `question ${i}: ${'tell me more about the weather in spring '.repeat(5)}` });
      messages.push({ role: 'assistant', content: `answer ${i}: ${'it is usually mild with some rain showers '.repeat(5)}` });
    }
    messages.push({ role: 'user', content: 'and in summer?' });
    const res = await chat({ model: 'trimmed', messages });
    expect(res.status).toBe(200);
    const sent = upstreamBody(small).messages as Array<{ role: string; content: string }>;
    expect(sent[0]).toEqual(messages[0]);
    expect(sent.at(-1)).toEqual(messages.at(-1));
    expect(sent.length).toBeLessThan(messages.length);
    expect(sent.slice(1)).toEqual(messages.slice(messages.length - sent.length + 1));
    const t = await traceOf(res);
    expect(t.attributes!['llmops.routing.trim.dropped_messages']).toBe(messages.length - sent.length);
    expect(t.attributes!['llmops.routing.trim.input_tokens_after']).toBeLessThanOrEqual(200);
    expect(t.attributes!['llmops.routing.trim.dropped_tokens']).toBeGreaterThan(0);
    // The trace keeps the request as the client sent it.
    expect((t.input_payload as { messages: unknown[] }).messages).toHaveLength(messages.length);
  });

  it('leaves a short conversation untouched and records nothing', async () => {
    const res = await chat({ model: 'trimmed' });
    expect(upstreamBody(small).messages).toEqual([{ role: 'user', content: 'hello' }]);
    const t = await traceOf(res);
    expect(t.attributes).toEqual({ 'llmops.routing.strategy': 'fallback' });
  });
});
