/**
 * No trace lost in an outage: the real trace writer keeps receiving traces while its
 * PostgreSQL (a private cluster, never the machine's main one) crashes and comes back.
 * Every pushed trace must be stored exactly once (the aggregates too), failures must be
 * counted and logged, and the store must fail fast while the server is down. (It also
 * guards a crash it found: a connection dropped between two statements of a transaction
 * emitted an 'error' nobody listened to; vitest fails the run on such an uncaught error.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { TraceSink } from '../../src/traces/trace-sink.js';
import { fullTrace } from './fixtures.js';
import { createPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

describe('postgres outage', () => {
  let pgServer: PrivatePostgres | undefined;
  beforeAll(async () => {
    pgServer = await createPrivatePostgres();
    pgServer.start();
  }, 120_000);
  afterAll(() => pgServer?.destroy(), 60_000);

  it('keeps every trace through a crash and restart of the server', async () => {
    const server = pgServer!;
    const lines: string[] = [];
    const log = createLogger('warn', (l) => void lines.push(l));
    const store = new PostgresStore({ url: server.url, log, connectTimeoutMs: 1000 });
    await store.migrate();
    const sink = new TraceSink(store, { maxQueue: 100_000, batchSize: 200, flushMs: 20, maxBackoffMs: 250, log });

    const t0 = Date.now();
    let pushed = 0;
    const push = (n: number): void => {
      for (let i = 0; i < n; i++) {
        sink.push(fullTrace({ id: `outage-${pushed}`, trace_id: `t-${pushed}`, started_at: t0 + pushed, requested_model: 'm' }));
        pushed++;
      }
    };
    // ~2,000 traces/s for 6 s; the server crashes at 1.5 s and is back at 3.5 s.
    const producer = setInterval(() => push(20), 10);
    await new Promise((r) => setTimeout(r, 1500));
    const beforeCrash = sink.stats.written;
    server.kill();
    const downAt = Date.now();
    await expect.poll(() => sink.stats.writeFailures, { timeout: 5000, interval: 20 }).toBeGreaterThan(0);
    const failFastMs = Date.now() - downAt;
    await new Promise((r) => setTimeout(r, Math.max(0, 3500 - (Date.now() - t0))));
    const duringOutage = sink.stats.written;
    server.start();
    await new Promise((r) => setTimeout(r, Math.max(0, 6000 - (Date.now() - t0))));
    clearInterval(producer);

    expect(await sink.drain(30_000)).toBe(0);
    expect(sink.stats.dropped).toBe(0);
    expect(beforeCrash).toBeGreaterThan(0);
    expect(sink.stats.writeFailures).toBeGreaterThan(0);
    expect(failFastMs).toBeLessThan(3000);
    expect(duringOutage - beforeCrash).toBeLessThan(pushed); // the outage was real: writes stopped
    expect(lines.some((l) => l.includes('trace write failed; will retry'))).toBe(true);

    // Stored exactly once each, in the table and in the rollups (a batch retried after a
    // lost commit acknowledgement must not count twice).
    expect(pushed).toBeGreaterThan(5000);
    expect(await store.countTraces()).toBe(pushed);
    const points = await store.metrics({ from: t0 - 3_600_000, to: t0 + pushed + 3_600_000, bucket: 'day' });
    expect(points.reduce((a, p) => a + p.requests, 0)).toBe(pushed);
    await store.close();
  }, 90_000);
});
