/**
 * Config reload (`POST /admin/reload`, as SIGHUP does in `llmops serve`): routes, providers,
 * keys from config, prices, capture, guardrails and limits change from the next request on;
 * a call in flight finishes on what it started with; an invalid config is refused with 422
 * `config_invalid` and the running one stays; sections that need a restart are named.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let a: MockUpstream;
let b: MockUpstream;
let g: TestGateway | undefined;

const KEY_ONE = 'sk-config-key-one-0123456789';
const KEY_TWO = 'sk-config-key-two-0123456789';

beforeAll(async () => {
  a = await startMockUpstream(openAIDialect);
  b = await startMockUpstream(openAIDialect);
  a.setDefault({ text: 'from a', usage: { input: 1000, output: 100 } });
  b.setDefault({ text: 'from b', usage: { input: 1000, output: 100 } });
});
afterEach(async () => {
  await g?.close();
  g = undefined;
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

function base(): Record<string, unknown> {
  return {
    providers: {
      pa: { type: 'openai', api_key: 'k', base_url: `${a.url}/v1` },
      pb: { type: 'openai', api_key: 'k', base_url: `${b.url}/v1` },
    },
    models: { chat: { targets: [{ provider: 'pa', model: 'm-a' }] } },
    keys: [{ name: 'one', key: KEY_ONE }],
  };
}

async function chat(t: TestGateway, model = 'chat', key = t.adminKey, content = 'hi'): Promise<Response> {
  return fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }] }),
  });
}

async function reload(t: TestGateway, key = t.adminKey): Promise<Response> {
  return fetch(`${t.url}/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
}

async function text(res: Response): Promise<string> {
  return ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
}

describe('config reload', () => {
  it('moves a model to another provider, adds one, and names the sections it applied', async () => {
    g = await startTestGateway(base());
    expect(await text(await chat(g))).toBe('from a');
    g.setDocument({
      ...base(),
      models: { chat: { targets: [{ provider: 'pb', model: 'm-b' }] }, added: { targets: [{ provider: 'pa', model: 'm-a2' }] } },
    });
    const res = await reload(g);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ object: 'config.reload', source: 'inline', applied: ['models'], restart_required: [] });
    const moved = await chat(g);
    expect(moved.headers.get('x-llmops-provider')).toBe('pb');
    expect(await text(moved)).toBe('from b');
    expect(b.requests.at(-1)!.body).toMatchObject({ model: 'm-b' });
    expect(await text(await chat(g, 'added'))).toBe('from a');
    const models = (await (await fetch(`${g.url}/v1/models`, { headers: { authorization: `Bearer ${g.adminKey}` } })).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id).sort()).toEqual(['added', 'chat']);
    expect(g.gw.config.models.added).toBeDefined();
    // Reloading the same config again changes nothing.
    expect(await (await reload(g)).json()).toMatchObject({ applied: [], restart_required: [] });
  });

  it('gives a model added by a reload its own metrics label, even before it answers once', async () => {
    g = await startTestGateway(base());
    g.setDocument({ ...base(), models: { chat: { targets: [{ provider: 'pa', model: 'm-a' }] }, fresh: { targets: [{ provider: 'pa', model: 'm-fresh' }] } } });
    await reload(g);
    a.enqueue({ status: 400, errorMessage: 'bad request' });
    expect((await chat(g, 'fresh')).status).toBe(400);
    await expect
      .poll(async () => (await (await fetch(`${g!.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('llmops_requests_total{')).join('\n'))
      .toMatch(/llmops_requests_total\{[^}]*model="fresh"[^}]*status="400"/);
  });

  it('does not serve answers cached from the old targets once a reload points the model elsewhere', async () => {
    g = await startTestGateway({ ...base(), cache: { ttl_seconds: 600 } });
    const first = await chat(g);
    expect(first.headers.get('x-llmops-cache')).toBe('miss');
    expect(await text(first)).toBe('from a');
    await expect.poll(async () => (await chat(g!)).headers.get('x-llmops-cache')).toBe('hit');
    g.setDocument({ ...base(), cache: { ttl_seconds: 600 }, models: { chat: { targets: [{ provider: 'pb', model: 'm-b' }] } } });
    await reload(g);
    const moved = await chat(g);
    expect(moved.headers.get('x-llmops-cache')).toBe('miss');
    expect(await text(moved)).toBe('from b');
    // Pointing it back finds the first answers again (still within their TTL).
    g.setDocument({ ...base(), cache: { ttl_seconds: 600 } });
    await reload(g);
    const back = await chat(g);
    expect(back.headers.get('x-llmops-cache')).toBe('hit');
    expect(await text(back)).toBe('from a');
  });

  it('lets a call in flight finish on the provider it started with, even when the reload removes that provider', async () => {
    g = await startTestGateway(base());
    a.enqueue({ text: 'slow from a', usage: { input: 1, output: 1 }, delayMs: 600 });
    const inFlight = chat(g);
    await new Promise((r) => setTimeout(r, 150));
    g.setDocument({ ...base(), providers: { pb: { type: 'openai', api_key: 'k', base_url: `${b.url}/v1` } }, models: { chat: { targets: [{ provider: 'pb', model: 'm-b' }] } } });
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['providers', 'models'] });
    const after = await chat(g);
    expect(await text(after)).toBe('from b');
    const first = await inFlight;
    expect(first.status).toBe(200);
    expect(await text(first)).toBe('slow from a');
    // The removed provider is gone for new requests.
    const gone = await chat(g, 'pa/m-a');
    expect(gone.status).toBe(404);
  });

  it('keeps an unchanged provider (with its connections) and replaces a changed one', async () => {
    g = await startTestGateway(base());
    await chat(g);
    const providerOf = (model: string) => g!.gw.router.resolve(model).targets[0]!.provider;
    const [paBefore, pbBefore] = [providerOf('pa/m'), providerOf('pb/m')];
    const changed = base();
    (changed.providers as Record<string, unknown>).pa = { type: 'openai', api_key: 'k', base_url: `${b.url}/v1` };
    g.setDocument(changed);
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['providers'] });
    expect(providerOf('pb/m')).toBe(pbBefore);
    expect(providerOf('pa/m')).not.toBe(paBefore);
    // pa now points at upstream b: the same model name answers from there.
    expect(await text(await chat(g))).toBe('from b');
  });

  it('forgets the open circuit of a provider the reload changed (a new URL is a new endpoint)', async () => {
    const doc: Record<string, unknown> = { ...base(), routing: { retries: 0, circuit_breaker: { failure_threshold: 2, cooldown_ms: 60_000 } } };
    g = await startTestGateway(doc);
    a.enqueue({ status: 500, errorMessage: 'down' }, { status: 500, errorMessage: 'down' });
    expect((await chat(g)).status).toBe(502);
    expect((await chat(g)).status).toBe(502);
    const open = await chat(g);
    expect(open.status).toBe(503);
    expect(((await open.json()) as { error: { code: string } }).error.code).toBe('all_targets_unavailable');
    // Same config again: the circuit stays open.
    await reload(g);
    expect((await chat(g)).status).toBe(503);
    const moved = { ...doc, providers: { ...(doc.providers as object), pa: { type: 'openai', api_key: 'k', base_url: `${b.url}/v1` } } };
    g.setDocument(moved);
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['providers'] });
    const ok = await chat(g);
    expect(ok.status).toBe(200);
    expect(await text(ok)).toBe('from b');
  });

  it('refuses an invalid config with 422 config_invalid naming the bad key, and goes on with the running one', async () => {
    g = await startTestGateway(base());
    g.setDocument({ ...base(), models: { chat: { targets: [{ provider: 'nope', model: 'x' }] } } });
    const res = await reload(g);
    expect(res.status).toBe(422);
    const err = ((await res.json()) as { error: { code: string; type: string; message: string } }).error;
    expect(err.code).toBe('config_invalid');
    expect(err.type).toBe('invalid_request_error');
    expect(err.message).toContain("models.chat.targets.0.provider: unknown provider 'nope'");
    expect(err.message).toContain('The running config stays');
    expect(await text(await chat(g))).toBe('from a');

    g.setDocument({ ...base(), routing: { retries: 'three' } });
    const typed = await reload(g);
    expect(typed.status).toBe(422);
    expect(((await typed.json()) as { error: { message: string } }).error.message).toContain('routing.retries');
    expect(g.gw.config.routing.retries).not.toBe('three');

    // /metrics tells an alert that the file on disk is not what runs.
    const metrics = async () => (await fetch(`${g!.url}/metrics`)).text();
    expect(await metrics()).toContain('llmops_config_reloads_total{result="failure"} 2');
    expect(await metrics()).toContain('llmops_config_last_reload_successful 0');
    g.setDocument(base());
    expect((await reload(g)).status).toBe(200);
    const after = await metrics();
    expect(after).toContain('llmops_config_reloads_total{result="success"} 1');
    expect(after).toContain('llmops_config_last_reload_successful 1');
    const at = Number(/^llmops_config_last_reload_success_timestamp_seconds (\S+)$/m.exec(after)![1]);
    expect(Math.abs(at - Date.now() / 1000)).toBeLessThan(10);
  });

  it('answers 401 without a key and 403 for a key that is not the admin', async () => {
    g = await startTestGateway(base());
    expect((await fetch(`${g.url}/admin/reload`, { method: 'POST' })).status).toBe(401);
    const res = await reload(g, KEY_ONE);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('admin_required');
  });

  it('applies keys from config: an added key works, a removed one is refused from the next request on', async () => {
    g = await startTestGateway(base());
    expect((await chat(g, 'chat', KEY_ONE)).status).toBe(200);
    expect((await chat(g, 'chat', KEY_TWO)).status).toBe(401);
    g.setDocument({ ...base(), keys: [{ name: 'two', key: KEY_TWO, models: ['chat'] }] });
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['keys'] });
    expect((await chat(g, 'chat', KEY_TWO)).status).toBe(200);
    expect((await chat(g, 'pa/m-a', KEY_TWO)).status).toBe(403);
    const removed = await chat(g, 'chat', KEY_ONE);
    expect(removed.status).toBe(401);
    expect(((await removed.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
  });

  it('applies new prices and capture policy to the next call', async () => {
    g = await startTestGateway({ ...base(), pricing: { 'm-a': { input: 1, output: 10 } } });
    const before = await chat(g);
    expect(Number(before.headers.get('x-llmops-cost-usd'))).toBeCloseTo(0.002, 9); // 1000 in × $1/M + 100 out × $10/M
    g.setDocument({ ...base(), pricing: { 'm-a': { input: 2, output: 20 } }, traces: { capture: { default: 'metadata' } } });
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['traces.capture', 'pricing'] });
    const after = await chat(g, 'chat', g.adminKey, 'a secret prompt');
    expect(Number(after.headers.get('x-llmops-cost-usd'))).toBeCloseTo(0.004, 9);
    const id = after.headers.get('x-llmops-trace-id')!;
    await expect.poll(async () => (await g!.gw.store.getTraceCalls(id)).length, { timeout: 3000 }).toBe(1);
    const [trace] = await g.gw.store.getTraceCalls(id);
    expect(trace!.input_payload).toBeNull();
    expect(trace!.cost_usd).toBeCloseTo(0.004, 9);
  });

  it('changes rate limits of a gateway running with limits; switching limits on waits for a restart', async () => {
    g = await startTestGateway({ ...base(), limits: { per_key: { rpm: 100 } } });
    for (let i = 0; i < 3; i++) expect((await chat(g, 'chat', KEY_ONE)).status).toBe(200);
    g.setDocument({ ...base(), limits: { per_key: { rpm: 3 } } });
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['limits'], restart_required: [] });
    // A changed limit starts afresh (the limiter's state is relative to its limit): three calls, then 429.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await chat(g, 'chat', KEY_ONE)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    await g.close();

    g = await startTestGateway(base());
    g.setDocument({ ...base(), limits: { per_key: { rpm: 1 } } });
    expect(await (await reload(g)).json()).toMatchObject({ applied: [], restart_required: ['limits'] });
    for (let i = 0; i < 3; i++) expect((await chat(g, 'chat', KEY_ONE)).status).toBe(200);
    expect(g.gw.config.limits).toBeUndefined();
  });

  it('turns guardrails on and off', async () => {
    g = await startTestGateway(base());
    const secret = 'tell me about project falcon';
    expect((await chat(g, 'chat', g.adminKey, secret)).status).toBe(200);
    g.setDocument({ ...base(), guardrails: { default: 'std', policies: { std: { input: [{ type: 'deny', words: ['project falcon'] }] } } } });
    expect(await (await reload(g)).json()).toMatchObject({ applied: ['guardrails'] });
    const blocked = await chat(g, 'chat', g.adminKey, secret);
    expect(blocked.status).toBe(400);
    expect(((await blocked.json()) as { error: { code: string } }).error.code).toBe('guardrail_blocked');
    g.setDocument(base());
    await reload(g);
    expect((await chat(g, 'chat', g.adminKey, secret)).status).toBe(200);
  });

  it('names the sections that need a restart and keeps them running as they started', async () => {
    g = await startTestGateway({ ...base(), server: { body_limit: 100_000 } });
    g.setDocument({ ...base(), server: { body_limit: 1000 }, models: { chat: { targets: [{ provider: 'pb', model: 'm-b' }] } } });
    const res = (await (await reload(g)).json()) as { applied: string[]; restart_required: string[] };
    expect(res).toMatchObject({ applied: ['models'], restart_required: ['server'] });
    // The old body limit still holds; the model change is in effect.
    const big = await chat(g, 'chat', g.adminKey, 'x'.repeat(5000));
    expect(big.status).toBe(200);
    expect(await text(big)).toBe('from b');
    expect(g.gw.config.server.body_limit).toBe(100_000);
    expect(g.logs.some((l) => l.includes('need a restart') && l.includes('server'))).toBe(true);

    // GET /admin/config shows what runs (secrets redacted) and what waits for a restart.
    const shown = await fetch(`${g.url}/admin/config`, { headers: { authorization: `Bearer ${g.adminKey}` } });
    expect(shown.status).toBe(200);
    const raw = await shown.text();
    expect(raw).not.toContain(KEY_ONE);
    const body = JSON.parse(raw) as { object: string; source: string; loaded_at: string; restart_required: string[]; config: Record<string, any> };
    expect(body).toMatchObject({ object: 'config', source: 'inline', restart_required: ['server'] });
    expect(Math.abs(Date.parse(body.loaded_at) - Date.now())).toBeLessThan(10_000);
    expect(body.config.server.body_limit).toBe(100_000);
    expect(body.config.models.chat.targets).toEqual([{ provider: 'pb', model: 'm-b' }]);
    expect(body.config.providers.pa.api_key).toBe('[redacted]');
    expect(body.config.keys[0]).toMatchObject({ name: 'one', key: '[redacted]' });
    expect((await fetch(`${g.url}/admin/config`, { headers: { authorization: `Bearer ${KEY_ONE}` } })).status).toBe(403);
  });
});
