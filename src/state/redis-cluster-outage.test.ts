/**
 * The shared Redis connection through Redis Cluster outages, against a real three-node
 * cluster (the machine's redis-server) whose nodes the test kills and restarts: a command
 * never waits past the outage grace period plus the cluster's bounded retries, commands for
 * the nodes still up keep working, and everything works again once the nodes are back.
 */
import type { Cluster } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway } from '../../test/helpers/gateway.js';
import { startRedisCluster, type TestRedisCluster } from '../../test/helpers/redis-cluster.js';
import { freshPrefix } from '../../test/helpers/redis.js';
import { openRedis, REDIS_OUTAGE_FAIL_FAST_MS, type RedisHandle } from './redis.js';

let cluster: TestRedisCluster | undefined;
let h: RedisHandle | undefined;
afterEach(async () => {
  await h?.close();
  await cluster?.close();
});

// Redis marks a silent node failed after this long (its default is 15 s).
const NODE_TIMEOUT_MS = 1500;

async function start(): Promise<{ c: TestRedisCluster; h: RedisHandle }> {
  cluster = await startRedisCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS });
  h = openRedis({ url: cluster.url, key_prefix: freshPrefix(), cluster: true });
  await h.client.ping();
  return { c: cluster, h };
}

/** How long one SET of `key` takes to settle, and whether it worked (else why not). */
async function timed(handle: RedisHandle, key: string): Promise<{ ok: boolean; ms: number; error?: string }> {
  const t0 = performance.now();
  const r = await handle.client.set(handle.key(key), '1', 'PX', 10_000).then(
    () => ({ ok: true }),
    (err: Error) => ({ ok: false, error: err.message }),
  );
  return { ...r, ms: performance.now() - t0 };
}

/** The port of the primary that holds `key`. */
async function portOf(handle: RedisHandle, key: string): Promise<number> {
  const slot = Number(await handle.client.cluster('KEYSLOT', handle.key(key)));
  const node = (handle.client as Cluster).slots[slot]?.[0];
  expect(node, `slot ${slot} has a node`).toBeDefined();
  return Number(node!.split(':').pop());
}

describe('the shared Redis connection on a cluster that loses nodes', () => {
  it('one primary down: its keys fail within a second, the rest keep working; once the cluster marks itself down commands for the other nodes fail at once; back to normal after a restart', async () => {
    const { c, h } = await start();
    const keys = Array.from({ length: 24 }, (_, i) => `k${i}`);
    const ports = await Promise.all(keys.map((k) => portOf(h, k)));
    const lost = c.ports[1]!;
    const onLost = keys.filter((_, i) => ports[i] === lost);
    const onOthers = keys.filter((_, i) => ports[i] !== lost);
    expect(onLost.length).toBeGreaterThan(0);
    expect(onOthers.length).toBeGreaterThan(0);

    await c.kill(1);
    const killedAt = performance.now();
    const lostTries = await Promise.all(onLost.slice(0, 3).map((k) => timed(h, k)));
    const otherTries = await Promise.all(onOthers.slice(0, 3).map((k) => timed(h, k)));
    // Bug: ioredis' defaults retried a gone node's command for 1.1-1.7 s, every command.
    for (const t of lostTries) {
      expect(t.ok).toBe(false);
      expect(t.ms).toBeLessThan(1000);
    }
    expect(otherTries.every((t) => t.ok)).toBe(true);

    // The survivors mark the node failed after the node timeout; then every slot answers
    // CLUSTERDOWN, which is not retried (ioredis' default retried it for 1.7 s, every slot).
    await new Promise((r) => setTimeout(r, Math.max(0, NODE_TIMEOUT_MS * 3 - (performance.now() - killedAt))));
    await expect.poll(async () => (await timed(h, onOthers[0]!)).error, { timeout: 10_000, interval: 200 }).toMatch(/CLUSTERDOWN/);
    const down = await Promise.all(onOthers.slice(0, 6).map((k) => timed(h, k)));
    for (const t of down) {
      expect(t.ok).toBe(false);
      expect(t.ms).toBeLessThan(100);
    }
    // The gone node's own keys still try its address once or twice first.
    for (const t of await Promise.all(onLost.slice(0, 3).map((k) => timed(h, k)))) {
      expect(t.ok).toBe(false);
      expect(t.ms).toBeLessThan(1000);
    }

    await c.restart(1);
    await expect.poll(async () => (await Promise.all(keys.map((k) => timed(h, k)))).every((t) => t.ok), { timeout: 15_000, interval: 250 }).toBe(true);
  }, 60_000);

  it('every node down: commands queued in the first moment fail at the grace period instead of waiting for the cluster, later ones at once; back to normal after a restart', async () => {
    const { c, h } = await start();
    expect((await timed(h, 'a')).ok).toBe(true);
    await Promise.all([c.kill(0), c.kill(1), c.kill(2)]);

    // Bug: these waited in the cluster client's queue until a node came back (over a minute here).
    const queued = await Promise.all(['a', 'b', 'c'].map((k) => timed(h, k)));
    for (const t of queued) {
      expect(t.ok).toBe(false);
      expect(t.ms).toBeLessThan(REDIS_OUTAGE_FAIL_FAST_MS + 500);
    }
    const later = await timed(h, 'a');
    expect(later.ok).toBe(false);
    expect(later.ms).toBeLessThan(50);

    await Promise.all([c.restart(0), c.restart(1), c.restart(2)]);
    await expect.poll(async () => (await timed(h, 'a')).ok, { timeout: 15_000, interval: 250 }).toBe(true);
  }, 60_000);
});

describe('a gateway on a cluster that loses every node', () => {
  it('with on_state_error: allow and the Redis cache, requests keep being answered: none waits much past the grace period, later ones not at all', async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: NODE_TIMEOUT_MS });
    const g = await startTestGateway({
      providers: { demo: {} },
      models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
      redis: { url: cluster.url, cluster: true, key_prefix: freshPrefix() },
      limits: { per_key: { rpm: 1000 }, on_state_error: 'allow' },
      cache: { backend: 'redis' },
    });
    try {
      const chat = async (content: string): Promise<{ status: number; ms: number; cache: string | null }> => {
        const t0 = performance.now();
        const res = await fetch(`${g.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content }], max_tokens: 20 }),
        });
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - t0, cache: res.headers.get('x-llmops-cache') };
      };
      expect((await chat('before')).status).toBe(200);
      await Promise.all([cluster.kill(0), cluster.kill(1), cluster.kill(2)]);
      // Each request asks Redis up to three times (limits, cache lookup, cache fill after the answer).
      const first = await Promise.all(['a', 'b', 'c'].map(chat));
      for (const r of first) {
        expect(r.status).toBe(200);
        expect(r.ms).toBeLessThan(REDIS_OUTAGE_FAIL_FAST_MS * 2 + 500);
      }
      const later = await Promise.all(['d', 'e', 'f'].map(chat));
      for (const r of later) {
        expect(r.status).toBe(200);
        expect(r.cache).toBe('miss');
        expect(r.ms).toBeLessThan(200);
      }
    } finally {
      await g.close();
    }
  }, 60_000);
});

describe('a gateway on a cluster with a primary gone silent', () => {
  it("the limits' slot on the silent primary: a few requests wait for Redis' timeout, then the limits skip it (on_state_error: allow) and requests are answered at once", async () => {
    cluster = await startRedisCluster({ nodeTimeoutMs: 60_000 }); // the survivors never mark it failed here
    const prefix = freshPrefix();
    h = openRedis({ url: cluster.url, key_prefix: prefix, cluster: true });
    await h.client.ping();
    // The primary that holds the limits' keys (one hash slot: {prefix}:lim:...).
    const slot = Number(await h.client.cluster('KEYSLOT', h.slotKey('lim', 'x')));
    const silent = cluster.ports.indexOf(Number((h.client as Cluster).slots[slot]![0]!.split(':').pop()));
    expect(silent).toBeGreaterThanOrEqual(0);
    const g = await startTestGateway({
      providers: { demo: {} },
      models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
      redis: { url: cluster.url, cluster: true, key_prefix: prefix },
      limits: { per_key: { rpm: 100_000 }, on_state_error: 'allow' },
    });
    try {
      const chat = async (): Promise<{ status: number; ms: number }> => {
        const t0 = performance.now();
        const res = await fetch(`${g.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${g.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }),
        });
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - t0 };
      };
      expect((await chat()).status).toBe(200);
      cluster.silence(silent, true);
      // The first ones wait for the command timeout (2 s)...
      const first = await chat();
      expect(first.status).toBe(200);
      expect(first.ms).toBeGreaterThan(1500);
      // ...then the limits skip Redis: one request per second probes it (and waits), the rest do not.
      // Bug: every request waited 2 s for as long as the primary was silent.
      const later: number[] = [];
      for (let i = 0; i < 20; i++) later.push((await chat()).ms);
      expect(later.filter((ms) => ms < 200).length).toBeGreaterThanOrEqual(17);
      cluster.silence(silent, false);
      await expect.poll(async () => (await chat()).ms, { timeout: 10_000, interval: 300 }).toBeLessThan(200);
    } finally {
      cluster.silence(silent, false);
      await g.close();
    }
  }, 60_000);
});
