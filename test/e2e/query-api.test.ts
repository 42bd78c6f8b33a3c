/**
 * The query API end to end: real calls through the gateway, then /api/traces (filters,
 * cursor pages), /api/traces/:id, /api/metrics, /api/costs, sessions, users and feedback,
 * with the admin key; an inference key may only post feedback.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';
import type { CostRow, MetricsPoint, SubjectSummary, TraceRecord } from '../../src/store/types.js';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startTestGateway, waitForTraces, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
let mock: MockUpstream;
let userKey: string;

async function call(model: string, headers: Record<string, string>, key = t.adminKey): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }] }),
  });
}

async function api<T>(path: string, key = t.adminKey): Promise<{ status: number; body: T }> {
  const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  mock = await startMockUpstream(openAIDialect);
  mock.setDefault({ text: 'ok', usage: { input: 1000, output: 100 } });
  t = await startTestGateway({
    providers: { demo: {}, openai: { type: 'openai', api_key: 'k', base_url: `${mock.url}/v1` } },
    models: {
      demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] },
      mini: { targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      unpriced: { targets: [{ provider: 'openai', model: 'my-private-model' }] },
    },
  });
  const created = await fetch(`${t.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'app' }),
  });
  userKey = ((await created.json()) as { key: string }).key;
  // 3 search calls by alice (one session), 2 summarize calls by bob, 1 unpriced, 1 error.
  for (let i = 0; i < 3; i++) await call('mini', { 'x-llmops-feature': 'search', 'x-llmops-user': 'alice', 'x-llmops-session': 'sess-1', 'x-llmops-metadata': '{"tier":"pro"}' });
  for (let i = 0; i < 2; i++) await call('demo', { 'x-llmops-feature': 'summarize', 'x-llmops-user': 'bob' }, userKey);
  await call('unpriced', { 'x-llmops-feature': 'search', 'x-llmops-user': 'alice' });
  await call('no-such-model', { 'x-llmops-feature': 'search' });
  await waitForTraces(t.gw, 7);
});
afterAll(async () => {
  await t.close();
  await mock.close();
});

describe('query API', () => {
  it('filters traces and pages through them with a cursor, newest first, without gaps or repeats', async () => {
    const search = await api<{ data: TraceRecord[] }>('/api/traces?feature=search&user=alice');
    expect(search.status).toBe(200);
    expect(search.body.data).toHaveLength(4);
    expect(search.body.data.every((r) => r.feature === 'search' && r.user_id === 'alice')).toBe(true);
    expect((await api<{ data: TraceRecord[] }>('/api/traces?status=error')).body.data.map((r) => r.error_code)).toEqual(['model_not_found']);
    expect((await api<{ data: TraceRecord[] }>('/api/traces?metadata.tier=pro')).body.data).toHaveLength(3);
    expect((await api<{ data: TraceRecord[] }>('/api/traces?model=demo')).body.data).toHaveLength(2);
    expect((await api<{ data: TraceRecord[] }>('/api/traces?q=sess-1')).body.data).toHaveLength(3);
    expect((await api<{ data: TraceRecord[] }>('/api/traces?min_cost=0.0001')).body.data.every((r) => (r.cost_usd ?? 0) >= 0.0001)).toBe(true);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { data: TraceRecord[]; next_cursor: string | null } } = await api(`/api/traces?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.body.data.map((r) => r.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen).toHaveLength(7);
    expect(new Set(seen).size).toBe(7);
  });

  it('returns a whole trace with its feedback, and rolls thumbs up/down into the metrics', async () => {
    const [first] = (await api<{ data: TraceRecord[] }>('/api/traces?model=demo&limit=1')).body.data;
    const fb = await fetch(`${t.url}/api/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ trace_id: first!.trace_id, name: 'thumbs', value: true, comment: 'great' }),
    });
    expect(fb.status).toBe(201);
    const tree = await api<{ calls: TraceRecord[]; feedback: Array<{ name: string; value_number: number; source: string }> }>(`/api/traces/${first!.trace_id}`);
    expect(tree.body.calls.map((c) => c.id)).toEqual([first!.id]);
    expect(tree.body.feedback).toMatchObject([{ name: 'thumbs', value_number: 1, source: 'user' }]);

    const m = await api<{ data: MetricsPoint[] }>('/api/metrics?since=1h&bucket=hour&group_by=model');
    const demo = m.body.data.filter((p) => p.group === 'demo');
    expect(demo.reduce((s, p) => s + p.requests, 0)).toBe(2);
    expect(demo.find((p) => p.feedback.thumbs)?.feedback.thumbs).toEqual({ count: 1, mean: 1 });
  });

  it('reports metrics per bucket with errors, tokens, latency percentiles and unknown costs', async () => {
    const m = await api<{ data: MetricsPoint[] }>('/api/metrics?since=1h&bucket=minute');
    const all = m.body.data;
    expect(all.reduce((s, p) => s + p.requests, 0)).toBe(7);
    expect(all.reduce((s, p) => s + p.errors, 0)).toBe(1);
    expect(all.reduce((s, p) => s + p.unknown_cost_requests, 0)).toBeGreaterThanOrEqual(1);
    expect(all.some((p) => p.latency_p50_ms !== null && p.latency_p99_ms! >= p.latency_p50_ms!)).toBe(true);
    const bad = await api<{ error: { param: string } }>('/api/metrics?bucket=fortnight');
    expect(bad.status).toBe(400);
    expect(bad.body.error.param).toBe('bucket');
  });

  it('totals costs by feature, never pricing an unknown model as 0', async () => {
    const c = await api<{ data: CostRow[]; total_cost_usd: number }>('/api/costs?by=feature&since=7d');
    const search = c.body.data.find((r) => r.group === 'search')!;
    // 3 × gpt-4o-mini: 1000 input at 0.15/M + 100 output at 0.6/M
    expect(search.cost_usd).toBeCloseTo(3 * (1000 * 0.15 + 100 * 0.6) / 1e6, 12);
    expect(search.unknown_cost_requests).toBe(1);
    expect(c.body.total_cost_usd).toBeCloseTo(c.body.data.reduce((s, r) => s + r.cost_usd, 0), 12);
  });

  it('summarizes sessions and users', async () => {
    const s = await api<SubjectSummary>('/api/sessions/sess-1');
    expect(s.body).toMatchObject({ id: 'sess-1', requests: 3, errors: 0 });
    const u = await api<SubjectSummary>('/api/users/bob');
    expect(u.body).toMatchObject({ id: 'bob', requests: 2 });
    expect(u.body.last_seen).toBeGreaterThan(0);
    expect((await api('/api/users/nobody')).status).toBe(404);
  });

  it('keeps the query API to the admin key and read-role keys; an inference key may post feedback only', async () => {
    for (const path of ['/api/traces', '/api/metrics', '/api/costs', '/api/users/bob']) {
      const r = await api<{ error: { code: string } }>(path, userKey);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('admin_required');
    }
    expect((await api('/api/traces', 'sk-wrong-1234567890')).status).toBe(401);
    // A key with the read role sees the query API, but not the admin API.
    const reader = (await (
      await fetch(`${t.url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'dashboard', roles: ['read'] }),
      })
    ).json()) as { key: string; roles: string[] };
    expect(reader.roles).toEqual(['read']);
    expect((await api<{ data: unknown[] }>('/api/traces', reader.key)).status).toBe(200);
    expect((await api('/api/costs?by=feature', reader.key)).status).toBe(200);
    expect((await api('/admin/keys', reader.key)).status).toBe(403);
    const bad = await fetch(`${t.url}/api/feedback`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ trace_id: 'x', name: 'thumbs', value: { nested: true } }),
    });
    expect(bad.status).toBe(400);
  });

  it('`llmops prices missing` names the upstream models called without a price', async () => {
    const out = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist', 'src', 'cli.js'), 'prices', 'missing', '--url', t.url, '--json'], {
        env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: t.adminKey },
      });
      let s = '';
      c.stdout.on('data', (d: Buffer) => (s += d.toString()));
      c.on('exit', () => resolve(s));
    });
    expect(JSON.parse(out)).toEqual([{ requested_model: 'unpriced', provider: 'openai', provider_model: 'my-private-model', unpriced_calls: 1 }]);
  });
});
