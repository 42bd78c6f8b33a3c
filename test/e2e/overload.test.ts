/**
 * `server.max_inflight_body_bytes`: the request bodies the calls in flight hold together are
 * bounded; past the bound a request gets 503 `server_overloaded` (OpenAI error shape,
 * Retry-After) instead of the gateway running out of memory, and every body's bytes are given
 * back once its answer is done (on both the inference fast path and Fastify's routes).
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAIDialect } from '../mock-upstreams/openai.js';
import { startMockUpstream, type MockUpstream } from '../mock-upstreams/server.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let upstream: MockUpstream;
let g: TestGateway;
const BUDGET = 150_000;
const filler = 'x'.repeat(60_000); // each body is a bit over 60 KB: two fit in the budget, three do not

beforeAll(async () => {
  upstream = await startMockUpstream(openAIDialect);
  upstream.setDefault({ text: 'ok', usage: { input: 3, output: 1 }, delayMs: 400 });
  g = await startTestGateway({
    server: { max_inflight_body_bytes: BUDGET },
    providers: { up: { type: 'openai', api_key: 'k', base_url: `${upstream.url}/v1` } },
    models: { chat: { targets: [{ provider: 'up', model: 'm' }] } },
  });
});
afterAll(async () => {
  await g?.close();
  await upstream?.close();
});

function chat(): Promise<Response> {
  return fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: filler }] }),
  });
}

describe('bodies in flight', () => {
  it('past the budget a request gets 503 server_overloaded with Retry-After; the calls under it are answered', async () => {
    const res = await Promise.all([chat(), chat(), chat()]);
    const statuses = res.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 503]);
    const refused = res.find((r) => r.status === 503)!;
    expect(refused.headers.get('retry-after')).toBe('1');
    const err = ((await refused.json()) as { error: { code: string; type: string; message: string } }).error;
    expect(err).toMatchObject({ code: 'server_overloaded', type: 'overloaded_error' });
    expect(err.message).toContain(`server.max_inflight_body_bytes: ${BUDGET} bytes`);
    for (const r of res) if (r !== refused) await r.arrayBuffer();
  });

  it('gives every body back once its answer is done: one after another, far more than the budget goes through', async () => {
    upstream.setDefault({ text: 'ok', usage: { input: 3, output: 1 } });
    for (let i = 0; i < 12; i++) {
      const r = await chat();
      await r.arrayBuffer();
      expect(r.status).toBe(200);
    }
    // Fastify's routes count and give back the same way (here an admin call with a large body, refused for its content).
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${g.url}/admin/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: filler }),
      });
      expect(r.status).toBe(400);
    }
    // Errors answered before the pipeline give theirs back too.
    for (let i = 0; i < 6; i++) {
      const r = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${g.adminKey}` }, body: `{"model": "chat", ${filler}` });
      expect(r.status).toBe(400);
    }
    // A client that goes away halfway through its body: its bytes are given back too.
    for (let i = 0; i < 5; i++) {
      const u = new URL(g.url);
      const sock = connect(Number(u.port), u.hostname);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      sock.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${g.adminKey}\r\ncontent-type: application/json\r\ncontent-length: 120000\r\n\r\n`);
      sock.write(filler);
      await new Promise((r) => setTimeout(r, 50));
      sock.destroy();
      await new Promise((r) => setTimeout(r, 20));
    }
    const last = await Promise.all([chat(), chat()]);
    expect(last.map((x) => x.status)).toEqual([200, 200]);
  });
});
