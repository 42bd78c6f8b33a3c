/**
 * Rate limits and budgets through a real gateway (in-memory state): OpenAI-style headers,
 * 429/402 in the OpenAI error shape with Retry-After, the per-request maximum and its
 * approval header, reservations reconciled to the real cost (streams and failed calls
 * too), soft-threshold alerts, `GET /api/budgets`, and per-key limits from the admin API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForTraces, startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
const USER_KEY = 'sk-limits-team-key-0123456789';
const OTHER_KEY = 'sk-limits-other-key-0123456789';

beforeAll(async () => {
  t = await startTestGateway({
    providers: { demo: {}, slow: { type: 'demo', chunk_delay_ms: 30 }, down: { type: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1', api_key: 'x' } },
    models: {
      demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] },
      limited: { targets: [{ provider: 'demo', model: 'demo-chat' }] },
      slow: { targets: [{ provider: 'slow', model: 'demo-chat' }] },
      broken: { targets: [{ provider: 'down', model: 'demo-chat' }], retries: 0 },
    },
    keys: [
      { name: 'team-key', key: USER_KEY, metadata: { team: 'search' } },
      { name: 'other', key: OTHER_KEY, limits: { rpm: 2 } },
    ],
    limits: { models: { limited: { rpm: 1000, tpm: 5000 } }, users: { 'rpm-user': { rpm: 2 }, 'stream-user': { rpm: 1 } } },
    budgets: {
      per_request_max_usd: 0.01,
      rules: [
        { name: 'search-team', scope: 'team', match: ['search'], limit_usd: 0.0005, window: 'day', soft_threshold: 0.5 },
        { name: 'feature-x', scope: 'feature', match: ['x'], limit_usd: 0.00001, window: 'rolling', period: '1h' },
        { name: 'aborts', scope: 'feature', match: ['abort'], limit_usd: 1, window: 'month' },
      ],
    },
  });
});
afterAll(() => t.close());

const admin = (): Record<string, string> => ({ authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' });

function chat(key: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
    body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 50, ...body }),
  });
}

async function errorOf(res: Response): Promise<{ message: string; type: string; code: string; param: string | null }> {
  const body = (await res.json()) as { error: { message: string; type: string; code: string; param: string | null } };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  return body.error;
}

interface Report {
  enabled: boolean;
  backend: string;
  data: Array<{ budget: string; subject: string; spent_usd: number; remaining_usd: number; limit_usd: number; resets_at: string | null; status: string; subject_name?: string }>;
  alerts: Array<{ budget: string; subject: string; message: string }>;
}

async function report(query = ''): Promise<Report> {
  const res = await fetch(`${t.url}/api/budgets${query}`, { headers: admin() });
  expect(res.status).toBe(200);
  return (await res.json()) as Report;
}

/** Settlement runs after the answer is sent: wait until the counters have it. */
async function settled(): Promise<void> {
  await new Promise((r) => setTimeout(r, 30));
}

describe('rate limits', () => {
  it('sends x-ratelimit-* headers and refuses over the limit with 429, Retry-After and the OpenAI error shape', async () => {
    const ok1 = await chat(OTHER_KEY);
    expect(ok1.status).toBe(200);
    expect(ok1.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(ok1.headers.get('x-ratelimit-remaining-requests')).toBe('1');
    expect(ok1.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?s$/);
    expect((await chat(OTHER_KEY)).status).toBe(200);
    const refused = await chat(OTHER_KEY);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    const err = await errorOf(refused);
    expect(err).toMatchObject({ code: 'rate_limit_exceeded', type: 'rate_limit_error' });
    expect(err.message).toContain('key "other"');
  });

  it('limits users by the x-llmops-user tag', async () => {
    const h = { 'x-llmops-user': 'rpm-user' };
    expect((await chat(USER_KEY, { model: 'limited' }, h)).status).toBe(200);
    expect((await chat(USER_KEY, { model: 'limited' }, h)).status).toBe(200);
    const refused = await chat(USER_KEY, { model: 'limited' }, h);
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).message).toContain('user "rpm-user"');
  });

  it('sends the headers on streams, and refuses /v1/messages in Anthropic\'s error shape', async () => {
    const h = { 'x-llmops-user': 'stream-user' };
    const stream = await chat(USER_KEY, { model: 'limited', stream: true }, h);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    expect(stream.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    await stream.text();
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': USER_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...h },
      body: JSON.stringify({ model: 'limited', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBeTruthy();
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.message).toContain('user "stream-user"');
  });

  it('counts tokens per minute and refuses a request larger than the whole limit', async () => {
    const ok = await chat(USER_KEY, { model: 'limited', max_tokens: 100 });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-limit-tokens')).toBe('5000');
    expect(Number(ok.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThan(5000);
    const big = await chat(USER_KEY, { model: 'limited', max_tokens: 6000 });
    expect(big.status).toBe(429);
    expect((await errorOf(big)).message).toContain('5000 tokens per minute');
  });
});

describe('budgets', () => {
  it('refuses a request over per_request_max_usd unless approved', async () => {
    // 100k output tokens of demo-chat at $0.60/M = $0.06 > $0.01.
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: admin(),
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100_000 }),
    });
    expect(res.status).toBe(402);
    const err = await errorOf(res);
    expect(err.code).toBe('request_cost_too_high');
    expect(err.message).toContain('x-llmops-approve-cost');
    const approved = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...admin(), 'x-llmops-approve-cost': 'true' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], max_tokens: 100_000 }),
    });
    expect(approved.status).toBe(200);
  });

  it('reserves, reconciles to the real cost, alerts at the soft threshold once, and stops at the hard limit naming the budget', async () => {
    // Earlier tests' calls with this key count too.
    let spent = (await report('?budget=search-team')).data[0]?.spent_usd ?? 0;
    let refused: Response | undefined;
    for (let i = 0; i < 40 && !refused; i++) {
      const stream = i % 2 === 1;
      const res = await chat(USER_KEY, { max_tokens: 200, ...(stream ? { stream, stream_options: { include_usage: true } } : {}) });
      if (res.status !== 200) {
        refused = res;
        break;
      }
      const text = await res.text();
      if (stream) {
        // A stream's cost is known only at its end: from its usage at demo-chat's price ($0.15/M in, $0.60/M out).
        const usage = /"usage":\{"prompt_tokens":(\d+),"completion_tokens":(\d+)/.exec(text)!;
        spent += (Number(usage[1]) * 0.15 + Number(usage[2]) * 0.6) / 1e6;
      } else {
        spent += Number(res.headers.get('x-llmops-cost-usd'));
      }
      await settled();
      const row = (await report('?budget=search-team')).data[0]!;
      // No reservation is left behind once a call is settled: spend is exactly the real cost.
      expect(row.spent_usd).toBeCloseTo(spent, 9);
    }
    expect(refused?.status).toBe(402);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    const err = await errorOf(refused!);
    expect(err.code).toBe('budget_exceeded');
    expect(err.message).toContain("Budget 'search-team' (team search)");
    expect(spent).toBeLessThanOrEqual(0.0005);
    // The refusal is traced like any other failed call.
    const traceId = refused!.headers.get('x-llmops-trace-id')!;
    let traced: { error_code: string | null; http_status: number; cost_usd: number | null } | undefined;
    for (let i = 0; i < 100 && !traced; i++) {
      await new Promise((r) => setTimeout(r, 20));
      traced = (await t.gw.store.getTraceCalls(traceId))[0];
    }
    expect(traced).toMatchObject({ error_code: 'budget_exceeded', http_status: 402, cost_usd: 0 });
    const r = await report();
    expect(r).toMatchObject({ enabled: true, backend: 'memory' });
    const row = r.data.find((d) => d.budget === 'search-team')!;
    expect(row).toMatchObject({ subject: 'search', limit_usd: 0.0005 });
    expect(row.resets_at).toMatch(/T00:00:00\.000Z$/);
    expect(row.remaining_usd).toBeCloseTo(0.0005 - spent, 9);
    const alerts = r.alerts.filter((a) => a.budget === 'search-team');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toContain('passed 50%');
    expect(t.logs.filter((l) => l.includes('budget soft threshold crossed') && l.includes('search-team'))).toHaveLength(1);
  });

  it('releases the reservation of a call that failed upstream', async () => {
    const before = (await report('?budget=feature-x')).data.find((d) => d.subject === 'x')?.spent_usd ?? 0;
    expect(before).toBe(0);
    const res = await chat(t.adminKey, { model: 'broken', max_tokens: 5 }, { 'x-llmops-feature': 'x' });
    expect(res.status).toBeGreaterThanOrEqual(500);
    await settled();
    expect((await report('?budget=feature-x')).data.find((d) => d.subject === 'x')!.spent_usd).toBe(0);
    await waitForTraces(t.gw, 1);
  });

  it('settles a stream the client dropped to what it really cost', async () => {
    const ac = new AbortController();
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...admin(), 'x-llmops-feature': 'abort' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'tell me a long story' }], max_tokens: 2000, stream: true }),
      signal: ac.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await reader.read().catch(() => undefined);
    // The trace records the partial answer's cost; the budget holds exactly that, not the reservation.
    const deadline = Date.now() + 5000;
    let trace: { cost_usd: number | null; http_status: number; status: string; error_code: string | null } | undefined;
    while (!trace && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      trace = (await t.gw.store.searchTraces({ feature: 'abort' }, 1)).data[0] as typeof trace;
    }
    // The client left mid-stream: the call is recorded as closed by the client, whatever the demo provider threw.
    // (Bug: the demo provider's AbortError made it a 200 with an internal_error.)
    expect(trace).toMatchObject({ http_status: 499, status: 'error', error_code: 'client_closed_request' });
    await settled();
    const row = (await report('?budget=aborts')).data.find((d) => d.subject === 'abort')!;
    const reservation = (2000 * 0.6) / 1e6;
    expect(row.spent_usd).toBeLessThan(reservation / 10);
    expect(row.spent_usd).toBeCloseTo(trace!.cost_usd ?? 0, 9);
  });

  it('a rolling budget refuses a request whose worst case does not fit', async () => {
    const res = await chat(t.adminKey, { max_tokens: 1000 }, { 'x-llmops-feature': 'x' });
    expect(res.status).toBe(402);
    const err = await errorOf(res);
    expect(err.message).toContain("Budget 'feature-x' (feature x) cannot cover this request");
    expect(err.message).toContain('rolling 1h');
  });
});

describe('per-key limits from the admin API', () => {
  it('creates a key with limits, enforces them, updates and clears them', async () => {
    const created = await fetch(`${t.url}/admin/keys`, {
      method: 'POST',
      headers: admin(),
      body: JSON.stringify({ name: 'capped', limits: { rpm: 1, budget: { limit_usd: 1, window: 'month' } } }),
    });
    expect(created.status).toBe(201);
    const k = (await created.json()) as { id: string; key: string; limits: unknown };
    expect(k.limits).toEqual({ rpm: 1, budget: { limit_usd: 1, window: 'month' } });
    expect((await chat(k.key)).status).toBe(200);
    expect((await chat(k.key)).status).toBe(429);
    const put = await fetch(`${t.url}/admin/keys/${k.id}/limits`, { method: 'PUT', headers: admin(), body: JSON.stringify({ limits: { rpm: 100 } }) });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { limits: unknown }).limits).toEqual({ rpm: 100 });
    expect((await chat(k.key)).status).toBe(200);
    const cleared = await fetch(`${t.url}/admin/keys/${k.id}/limits`, { method: 'PUT', headers: admin(), body: JSON.stringify({ limits: null }) });
    expect(((await cleared.json()) as { limits: unknown }).limits).toBeNull();
    const bad = await fetch(`${t.url}/admin/keys/${k.id}/limits`, { method: 'PUT', headers: admin(), body: JSON.stringify({ limits: { rpm: -1 } }) });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${t.url}/admin/keys/key_nope/limits`, { method: 'PUT', headers: admin(), body: JSON.stringify({ limits: null }) });
    expect(missing.status).toBe(404);
  });

  it('shows key budgets in the report', async () => {
    const created = (await (
      await fetch(`${t.url}/admin/keys`, { method: 'POST', headers: admin(), body: JSON.stringify({ name: 'budgeted', limits: { budget: { limit_usd: 2, window: 'day' } } }) })
    ).json()) as { id: string; key: string };
    const res = await chat(created.key);
    const cost = Number(res.headers.get('x-llmops-cost-usd'));
    await settled();
    const row = (await report('?budget=key')).data.find((d) => d.subject === created.id)!;
    expect(row).toMatchObject({ subject_name: 'budgeted', limit_usd: 2 });
    expect(row.spent_usd).toBeCloseTo(cost, 9);
  });
});

describe('without limits or budgets configured', () => {
  it('leaves the stage out: no rate-limit headers, and the report says it is off', async () => {
    const plain = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } } });
    try {
      expect(plain.gw.limits).toBeUndefined();
      const res = await fetch(`${plain.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${plain.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBeNull();
      const r = (await (await fetch(`${plain.url}/api/budgets`, { headers: { authorization: `Bearer ${plain.adminKey}` } })).json()) as Report;
      expect(r).toMatchObject({ enabled: false, data: [] });
    } finally {
      await plain.close();
    }
  });
});
