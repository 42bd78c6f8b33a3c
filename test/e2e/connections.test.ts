/**
 * Connections as a client sees them. Shutdown: a call in flight when the gateway starts
 * closing finishes, and a call that arrives after that on a kept-alive connection gets 503
 * `service_shutting_down` in its API's error shape with `Connection: close`, never a body in
 * some other shape (bug: every call got Fastify's own 503 body). Slow senders: a client that
 * takes longer than `server.request_timeout_ms` to send its request gets 408 and loses the
 * connection; a slow answer does not count. Bytes that are not HTTP, and headers over Node's
 * limit, are answered in the OpenAI error shape too (were Fastify's own bodies).
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startTestGateway, TEST_ADMIN_KEY } from '../helpers/gateway.js';

function request(path: string, body: string, method = 'POST'): string {
  return [
    `${method} ${path} HTTP/1.1`,
    'Host: 127.0.0.1',
    `Authorization: Bearer ${TEST_ADMIN_KEY}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: keep-alive',
    '',
    body,
  ].join('\r\n');
}

/** Splits what came back on one connection into responses (all have a Content-Length). */
function responses(raw: string): Array<{ status: number; headers: Record<string, string>; body: string }> {
  const out: Array<{ status: number; headers: Record<string, string>; body: string }> = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] ?? 0);
    const bodyBytes = Buffer.from(rest.slice(end + 4)).subarray(0, len);
    out.push({ status: Number(statusLine!.split(' ')[1]), headers, body: bodyBytes.toString() });
    rest = Buffer.from(rest.slice(end + 4)).subarray(len).toString();
  }
  return out;
}

describe('shutdown', () => {
  const openAICode = (b: unknown): string => (b as { error: { code: string } }).error.code;
  it.each([
    ['/v1/chat/completions', 'POST', { model: 'demo', messages: [{ role: 'user', content: 'hi' }] }, openAICode, 'service_shutting_down'],
    ['/v1/messages', 'POST', { model: 'demo', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, (b: unknown) => (b as { type: string }).type, 'error'],
    ['/v1/models', 'GET', { model: 'demo', messages: [{ role: 'user', content: 'hi' }] }, openAICode, 'service_shutting_down'],
  ] as const)('%s: the call in flight finishes, the next one on its connection gets 503 in the API\'s shape', async (path, method, payload, shape, expected) => {
    const t = await startTestGateway({
      server: { shutdown_grace_ms: 5000 },
      providers: { demo: { latency_ms: 300 } },
      models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
    });
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const body = JSON.stringify(payload);
    const first = method === 'POST' ? path : '/v1/chat/completions';
    socket.write(request(first, first === path ? body : JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] })));
    await new Promise((r) => setTimeout(r, 100));
    const closing = t.close();
    await new Promise((r) => setTimeout(r, 50));
    socket.write(method === 'POST' ? request(path, body) : request(path, '', 'GET'));
    await closing;
    await closed;
    const [done, refused] = responses(raw);
    expect(done?.status).toBe(200);
    expect(refused?.status).toBe(503);
    expect(refused?.headers.connection).toBe('close');
    expect(refused?.headers['content-type']).toContain('application/json');
    expect(shape(JSON.parse(refused!.body) as unknown)).toBe(expected);
  });
});

describe('request timeout', () => {
  it('answers 408 and closes the connection of a client that sends its body too slowly; a slow upstream is fine', async () => {
    const t = await startTestGateway({
      server: { request_timeout_ms: 600 },
      providers: { demo: { latency_ms: 1000 } },
      models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
    });
    try {
      const { port } = new URL(t.url);
      const socket = connect(Number(port), '127.0.0.1');
      let raw = '';
      socket.on('data', (d: Buffer) => (raw += d.toString()));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const started = Date.now();
      const body = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
      // Headers and half the body; the rest never comes.
      socket.write(request('/v1/chat/completions', body).slice(0, -Math.floor(body.length / 2)));
      const at = await closed;
      expect(raw).toMatch(/^HTTP\/1\.1 408 /);
      expect(responses(raw)[0]?.body).toContain('"code":"request_timeout"');
      expect(at - started).toBeGreaterThanOrEqual(550);
      expect(at - started).toBeLessThan(3000);

      // The answer takes 1 s, longer than the request timeout: only receiving the request counts.
      const res = await fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('requests that are not HTTP', () => {
  /** Sends raw bytes on a new connection and returns all that comes back before it closes. */
  async function exchangeRaw(url: string, bytes: string): Promise<string> {
    const socket = connect(Number(new URL(url).port), '127.0.0.1');
    let raw = '';
    socket.on('data', (d: Buffer) => (raw += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(bytes);
    await closed;
    return raw;
  }

  it('answers garbage and oversized headers in the OpenAI error shape, then closes', async () => {
    const t = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } } });
    try {
      const garbage = responses(await exchangeRaw(t.url, 'HELLO THERE\r\n\r\n'));
      expect(garbage[0]?.status).toBe(400);
      expect(garbage[0]?.headers.connection).toBe('close');
      expect(JSON.parse(garbage[0]!.body)).toMatchObject({ error: { code: 'malformed_http', type: 'invalid_request_error' } });

      const huge = responses(await exchangeRaw(t.url, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`));
      expect(huge[0]?.status).toBe(431);
      expect(JSON.parse(huge[0]!.body)).toMatchObject({ error: { code: 'request_headers_too_large' } });

      // And the gateway goes on serving.
      expect((await fetch(`${t.url}/health`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
