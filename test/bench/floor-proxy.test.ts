/**
 * The benchmark's floor proxy (bench/floor-proxy.ts) against the benchmark's mock upstream,
 * both as the benchmark runs them (built files, own processes): it passes answers and
 * streams through unchanged, keeps the path (the mock's delayed route), and under
 * `/cached/` answers a repeated body without calling the mock; and the mock's per-request
 * delays (`/delay/body/`) with the load generator's measure of what lies beyond them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DIST_BENCH = fileURLToPath(new URL('../../dist/bench/', import.meta.url));
const children: ChildProcess[] = [];

async function start(script: string, args: string[] = []): Promise<string> {
  const cp = spawn(process.execPath, [`${DIST_BENCH}${script}`, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(cp);
  const rl = createInterface({ input: cp.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    cp.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    rl.on('line', (l) => {
      const m = JSON.parse(l) as { event?: string; port?: number };
      if (m.event === 'listening' && m.port) resolve(m.port);
    });
  });
  return `http://127.0.0.1:${port}`;
}

const body = (extra: Record<string, unknown> = {}): string => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }], ...extra });
const post = (url: string, b: string): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-mock-upstream' }, body: b });
const served = async (mock: string): Promise<{ served: number; streamed: number }> => (await fetch(`${mock}/stats`)).json() as Promise<{ served: number; streamed: number }>;

describe('bench floor proxy', () => {
  let mock = '';
  let floor = '';
  beforeAll(async () => {
    mock = await start('mock-upstream.js');
    floor = await start('floor-proxy.js', ['--upstream', mock]);
  });
  afterAll(() => {
    for (const c of children) c.kill('SIGTERM');
  });

  it('forwards a completion unchanged, with its length', async () => {
    const before = await served(mock);
    const direct = await (await post(`${mock}/v1/chat/completions`, body())).text();
    const r = await post(`${floor}/v1/chat/completions`, body());
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(Buffer.byteLength(direct)));
    expect(await r.text()).toBe(direct);
    expect((await served(mock)).served).toBe(before.served + 2);
  });

  it('keeps the path, so the delayed route waits upstream', async () => {
    const t0 = performance.now();
    const r = await post(`${floor}/delay/60/v1/chat/completions`, body());
    expect(r.status).toBe(200);
    expect(JSON.parse(await r.text())).toHaveProperty('choices');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
  });

  it('pipes a stream through', async () => {
    const direct = await (await post(`${mock}/v1/chat/completions`, body({ stream: true }))).text();
    const r = await post(`${floor}/v1/chat/completions`, body({ stream: true }));
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await r.text();
    expect(text).toBe(direct);
    expect(text).toContain('data: [DONE]');
  });

  it("waits the delay a /delay/body/ request names and says in the answer's id how long it held it", async () => {
    const t0 = performance.now();
    const r = await post(`${floor}/delay/body/v1/chat/completions`, body({ messages: [{ role: 'user', content: 'Hello! [mock-delay-ms 40.5]' }] }));
    const elapsed = performance.now() - t0;
    expect(r.status).toBe(200);
    const answer = (await r.json()) as { id: string; choices: unknown[] };
    const held = Number(/^chatcmpl-held-(\d+\.\d+)$/.exec(answer.id)?.[1]);
    expect(held).toBeGreaterThanOrEqual(38.5);
    expect(held).toBeLessThanOrEqual(elapsed);
    expect(answer.choices).toHaveLength(1);
    const missing = await post(`${mock}/delay/body/v1/chat/completions`, body());
    expect(missing.status).toBe(400);
  });

  it('load generator: with a delay range, measures each request beyond the time the mock held it', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const cp = spawn(process.execPath, [`${DIST_BENCH}load-generator.js`, '--url', `${mock}/delay/body/v1/chat/completions`, '--connections', '4', '--duration-s', '1', '--warmup-s', '0.2', '--delay-range-ms', '5-15'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      cp.stdout!.on('data', (c: Buffer) => (text += c.toString()));
      cp.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`load generator exited with ${code}: ${text}`))));
    });
    const r = JSON.parse(out) as { errorCount: number; latencyMs: { samples: number; min: number; max: number }; beyondDelayMs: { samples: number; min: number; p50: number } };
    expect(r.errorCount).toBe(0);
    expect(r.beyondDelayMs.samples).toBe(r.latencyMs.samples);
    expect(r.beyondDelayMs.samples).toBeGreaterThan(100);
    // Requests waited 5-15 ms upstream; what is left is the loopback round trip.
    expect(r.latencyMs.min).toBeGreaterThanOrEqual(3.5); // timers may fire up to about a millisecond early
    expect(r.latencyMs.max).toBeGreaterThan(12);
    expect(r.beyondDelayMs.min).toBeGreaterThanOrEqual(0);
    expect(r.beyondDelayMs.p50).toBeLessThan(5);
  });

  it('answers a repeated body under /cached/ from memory, a new body from the mock', async () => {
    const b = body({ max_tokens: 7 });
    const first = await (await post(`${floor}/cached/v1/chat/completions`, b)).text();
    const before = await served(mock);
    const again = await post(`${floor}/cached/v1/chat/completions`, b);
    expect(again.status).toBe(200);
    expect(await again.text()).toBe(first);
    expect((await served(mock)).served).toBe(before.served);
    await (await post(`${floor}/cached/v1/chat/completions`, body({ max_tokens: 8 }))).text();
    expect((await served(mock)).served).toBe(before.served + 1);
  });

  it('answers 502 in the OpenAI error shape when the upstream is gone', async () => {
    const orphan = await start('floor-proxy.js', ['--upstream', 'http://127.0.0.1:9']);
    const r = await post(`${orphan}/v1/chat/completions`, body());
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: { message: string } }).error.message).toBeTruthy();
  });
});
