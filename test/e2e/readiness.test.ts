/**
 * `/ready` and the trace queue: an instance whose traces cannot be written says so, and
 * stops taking traffic before its queue is full enough to drop them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_STORE_TIMEOUT_MS } from '../../src/server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({
    store: { trace_queue_max: 20 },
    providers: { demo: {} },
    models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
  });
});
afterAll(() => t.close());

async function chat(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: `question ${i}` }] }),
    });
    expect(res.status).toBe(200);
  }
}

async function ready(): Promise<{ status: number; body: Record<string, unknown> & { traces: Record<string, unknown> } }> {
  const res = await fetch(`${t.url}/ready`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { traces: Record<string, unknown> } };
}

describe('/ready and the trace queue', () => {
  it('reports failing trace writes, turns unready before the queue is full, and ready again once the store takes them', async () => {
    let r = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ready', store: 'sqlite', traces: { queued: 0, queue_fill: 0, writes: 'ok', failing_since: null } });

    // The disk fills up: every write fails.
    const store = t.gw.store;
    const writeTraces = store.writeTraces.bind(store);
    store.writeTraces = async () => {
      throw new Error('SQLITE_FULL: database or disk is full');
    };
    const before = await store.countTraces();
    await chat(10);
    await expect.poll(() => t.gw.sink.stats.writeFailures, { timeout: 3000 }).toBeGreaterThan(0);
    r = await ready();
    // Half full: still ready, but it says writes are failing and since when.
    expect(r.status).toBe(200);
    expect(r.body.traces).toMatchObject({ queued: 10, queue_fill: 0.5, writes: 'failing' });
    expect(Date.parse(r.body.traces.failing_since as string)).toBeGreaterThan(Date.now() - 10_000);

    await chat(8);
    r = await ready();
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'unavailable', traces: { queued: 18, queue_fill: 0.9, writes: 'failing' } });
    expect(r.body.error).toBe(`the trace queue is 90% full (trace writes have failed since ${r.body.traces.failing_since as string}); this instance would soon drop traces`);
    expect(t.gw.sink.stats.dropped).toBe(0);

    // Room again: the held traces are written, none lost, and the instance is ready.
    store.writeTraces = writeTraces;
    await expect.poll(async () => (await ready()).status, { timeout: 10_000, interval: 100 }).toBe(200);
    expect((await ready()).body.traces).toEqual({ queued: 0, queue_fill: 0, writes: 'ok', failing_since: null });
    expect(await store.countTraces()).toBe(before + 18);
    expect(t.gw.sink.stats.dropped).toBe(0);
  });

  it('a store that does not answer its ping makes /ready 503 within the deadline, not a probe that hangs', async () => {
    const store = t.gw.store;
    const ping = store.ping.bind(store);
    store.ping = () => new Promise<void>(() => undefined);
    try {
      const t0 = performance.now();
      const r = await ready();
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ status: 'unavailable', error: 'the store is not reachable' });
      expect(performance.now() - t0).toBeGreaterThanOrEqual(READY_STORE_TIMEOUT_MS - 50);
      expect(performance.now() - t0).toBeLessThan(READY_STORE_TIMEOUT_MS + 1000);
    } finally {
      store.ping = ping;
    }
    expect((await ready()).status).toBe(200);
  });
});

describe('/ready with Redis', () => {
  it('shows the shared Redis connection and stays ready while it is down (every instance shares it)', async () => {
    const up = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } }, redis: { url: process.env.LLMOPS_TEST_REDIS_URL, key_prefix: 'llmops-ready' } });
    const down = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } }, redis: { url: 'redis://127.0.0.1:1', key_prefix: 'nowhere' } });
    try {
      await expect.poll(async () => ((await (await fetch(`${up.url}/ready`)).json()) as { redis?: string }).redis, { timeout: 5000 }).toBe('ok');
      const res = await fetch(`${down.url}/ready`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ready', redis: 'unreachable' });
    } finally {
      await Promise.all([up.close(), down.close()]);
    }
  });
});
