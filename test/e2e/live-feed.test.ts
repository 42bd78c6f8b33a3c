/**
 * The live trace feed (`GET /api/traces/stream`, what `llmops traces tail` reads) against a
 * client that stops reading: the gateway keeps at most LIVE_FEED_BUFFER_BYTES waiting for
 * it, drops the rest, and says how many once the client has caught up.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_FEED_BUFFER_BYTES } from '../../src/server.js';
import { sampleTrace } from '../helpers/sample-trace.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } } });
});
afterAll(() => t.close());

describe('live trace feed', () => {
  it('drops traces for a client that does not read, and tells it how many once it has caught up', async () => {
    const { port } = new URL(t.url);
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write(`GET /api/traces/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.adminKey}\r\n\r\n`);
    await expect.poll(() => text.includes(': connected'), { timeout: 5000 }).toBe(true);

    socket.pause();
    const burst = 20_000; // ~30 MB of feed: more than the limit and the kernel's socket buffers
    for (let i = 0; i < burst; i++) t.gw.sink.push(sampleTrace(i));
    expect(JSON.stringify(sampleTrace(0)).length * burst).toBeGreaterThan(LIVE_FEED_BUFFER_BYTES * 4); // the test's own premise
    socket.resume();

    // Once the client has read what was kept, the next trace goes out after a `dropped` event.
    let marker = 0;
    await expect
      .poll(
        () => {
          t.gw.sink.push({ ...sampleTrace(1_000_000 + marker), id: `marker-${marker++}` });
          return text.includes('"id":"marker-');
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(true);
    socket.destroy();

    // Everything pushed before the first marker that got through was either sent or reported
    // as dropped before it: the burst and the markers 0..k-1 that were dropped.
    const first = /"id":"marker-(\d+)"/.exec(text)!;
    const before = text.slice(0, first.index);
    const sent = before.split('event: trace\n').length - 2; // the marker's own event is in `before`
    const dropped = [...before.matchAll(/event: dropped\ndata: \{"dropped":(\d+)\}/g)].reduce((n, m) => n + Number(m[1]), 0);
    expect(dropped).toBeGreaterThan(0);
    expect(sent).toBeLessThan(burst);
    expect(sent + dropped).toBe(burst + Number(first[1]));
  }, 30_000);
});
