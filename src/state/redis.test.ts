/**
 * The shared Redis connection through an outage: a real Redis (LLMOPS_TEST_REDIS_URL) behind
 * a TCP relay the test can cut. Right after a loss commands wait for the reconnect; once the
 * outage outlasts the grace period they fail at once; once Redis is back, they work. A Redis
 * that stops answering without closing the connection is found out by the watchdog's PING and
 * then handled the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPrefix } from '../../test/helpers/redis.js';
import { startRelay, type TcpRelay } from '../../test/helpers/tcp-relay.js';
import { openRedis, REDIS_COMMAND_TIMEOUT_MS, REDIS_OUTAGE_FAIL_FAST_MS, REDIS_WATCHDOG_INTERVAL_MS, type RedisHandle } from './redis.js';

const target = process.env.LLMOPS_TEST_REDIS_URL;
let relay: TcpRelay | undefined;

let h: RedisHandle;
beforeAll(async () => {
  expect(target, 'LLMOPS_TEST_REDIS_URL must be set (bash .ci/run sets it)').toBeDefined();
  const u = new URL(target!);
  relay = await startRelay(u.hostname, Number(u.port || 6379));
  h = openRedis({ url: `redis://127.0.0.1:${relay.port}`, key_prefix: freshPrefix() });
});
afterAll(async () => {
  await h?.close();
  if (relay?.listening) await relay.down();
});

/** How long one command takes to settle, and whether it worked (else why not). */
async function timed(): Promise<{ ok: boolean; ms: number; error?: string }> {
  const t0 = performance.now();
  const r = await h.client.set(h.key('probe'), '1', 'PX', 10_000).then(
    () => ({ ok: true }),
    (err: Error) => ({ ok: false, error: err.message }),
  );
  return { ...r, ms: performance.now() - t0 };
}

describe('the shared Redis connection', () => {
  it('waits for the reconnect right after a loss, fails at once during an outage, and works again once Redis is back', async () => {
    expect((await timed()).ok).toBe(true);

    // Within the grace period a command waits for the reconnect attempts (a failover is
    // waited out); past it, commands fail at once instead of each sitting them out.
    await relay!.down();
    const early = await timed();
    expect(early.ok).toBe(false);
    expect(early.ms).toBeGreaterThan(50);
    await new Promise((r) => setTimeout(r, 3000));
    const failed = await timed();
    expect(failed.ok).toBe(false);
    // Not sent at all (waiting out two reconnect attempts instead took 0.16-2 s, growing with the outage).
    expect(failed.error).toBe("Stream isn't writeable and enableOfflineQueue options is false");
    expect(failed.ms).toBeLessThan(50);

    await relay!.up();
    await expect.poll(async () => (await timed()).ok, { timeout: 10_000, interval: 200 }).toBe(true);
  }, 30_000);

  it('Redis silent with the connection open: a command fails at the command timeout, then the connection counts as lost and commands fail at once; works again once Redis answers', async () => {
    await expect.poll(async () => (await timed()).ok, { timeout: 10_000, interval: 200 }).toBe(true);
    relay!.stall(true);
    try {
      // Bug: without a command timeout this waited for TCP to give up, minutes later.
      const t = await timed();
      expect(t.ok).toBe(false);
      expect(t.error).toBe('Command timed out');
      expect(t.ms).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 50);
      expect(t.ms).toBeLessThan(REDIS_COMMAND_TIMEOUT_MS + 500);
      // The watchdog's PING timed out too: the connection is dropped, and once the grace
      // period is over nothing waits (before, every command took the full timeout).
      const bound = REDIS_WATCHDOG_INTERVAL_MS + REDIS_COMMAND_TIMEOUT_MS + REDIS_OUTAGE_FAIL_FAST_MS + 1500;
      await expect.poll(async () => (await timed()).ms, { timeout: bound, interval: 100 }).toBeLessThan(50);
      expect((await timed()).ok).toBe(false);
    } finally {
      relay!.stall(false);
    }
    await expect.poll(async () => (await timed()).ok, { timeout: 10_000, interval: 200 }).toBe(true);
  }, 30_000);
});
