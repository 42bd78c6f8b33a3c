/**
 * Key lookups when the store fails or stops answering: keys in use go on from their last
 * known record (expiry still enforced), one lookup per key at a time, the store asked again
 * after a while; a key never seen gets 503 `store_unavailable`. A real SQLite store whose key
 * lookup the test can make fail or hang.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LlmopsError } from '../errors.js';
import { createLogger } from '../logger.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { KeyRecord } from '../store/types.js';
import { KEY_LOOKUP_TIMEOUT_MS, KEY_STALE_RETRY_MS, KeyService } from './key-service.js';

class FlakyStore extends SqliteStore {
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  lookups = 0;
  override async findKeyByHash(hash: string): Promise<KeyRecord | undefined> {
    this.lookups++;
    if (this.mode === 'hang') return new Promise(() => undefined);
    if (this.mode === 'fail') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    return super.findKeyByHash(hash);
  }
}

const stores: FlakyStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup(): Promise<{ store: FlakyStore; svc: KeyService; logs: string[] }> {
  const store = new FlakyStore(':memory:');
  stores.push(store);
  await store.migrate();
  const logs: string[] = [];
  const svc = new KeyService(store, { adminKey: undefined, staticKeys: [], log: createLogger('warn', (l) => void logs.push(l)) });
  return { store, svc, logs };
}

async function timed<T>(p: Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe('key lookups while the store is unavailable', () => {
  it('a key in use goes on from its last known record when the store stops answering, without a request waiting on it twice', async () => {
    const { store, svc, logs } = await setup();
    const t = 1_000_000;
    const { key } = await svc.create({ name: 'app' }, t);
    expect((await svc.authenticate(key, t)).name).toBe('app');
    store.lookups = 0;

    store.mode = 'hang';
    // Due for a refresh (10 s cache): the first request waits for the lookup, up to its timeout...
    const first = svc.authenticate(key, t + 11_000);
    // ...while another request for the same key, meanwhile, goes on at once with what is known.
    const meanwhile = await timed(svc.authenticate(key, t + 11_001));
    expect(meanwhile.ms).toBeLessThan(50);
    expect((meanwhile.value as { name: string }).name).toBe('app');
    const r = await timed(first);
    // Bug: without the timeout this never settled (a store that does not answer held every request).
    expect((r.value as { name: string }).name).toBe('app');
    expect(r.ms).toBeGreaterThanOrEqual(KEY_LOOKUP_TIMEOUT_MS - 50);
    expect(r.ms).toBeLessThan(KEY_LOOKUP_TIMEOUT_MS + 500);
    expect(store.lookups).toBe(1);
    expect(logs.some((l) => l.includes('serving keys from their last known records'))).toBe(true);

    // Until the retry interval is over the store is not asked, and nothing waits.
    const soon = await timed(svc.authenticate(key, t + 11_000 + KEY_STALE_RETRY_MS - 100));
    expect(soon.ms).toBeLessThan(50);
    expect(store.lookups).toBe(1);

    // Revoked meanwhile (by another instance): applies once the store answers again.
    const rec = (await store.listKeys())[0]!;
    await store.revokeKey(rec.id, t + 12_000);
    store.mode = 'ok';
    const after = await timed(svc.authenticate(key, t + 11_000 + KEY_STALE_RETRY_MS + 100));
    expect(after.error).toBeInstanceOf(LlmopsError);
    expect((after.error as LlmopsError).code).toBe('revoked_api_key');
    expect(store.lookups).toBe(2);
  });

  it('a failing store: a key in use goes on, its expiry still holds; a key never seen gets 503 store_unavailable', async () => {
    const { store, svc } = await setup();
    const t = 2_000_000;
    const { key } = await svc.create({ name: 'app', expiresAt: t + 30_000 }, t);
    const { key: unseen } = await svc.create({ name: 'other' }, t);
    await svc.authenticate(key, t);

    store.mode = 'fail';
    expect((await svc.authenticate(key, t + 11_000)).name).toBe('app');
    const refused = await timed(svc.authenticate(unseen, t + 11_000));
    expect(refused.error).toBeInstanceOf(LlmopsError);
    const err = refused.error as LlmopsError;
    expect(err.code).toBe('store_unavailable');
    expect(err.status).toBe(503);
    expect(err.retryAfterMs).toBe(1000);
    // The last known record still carries the expiry.
    const expired = await timed(svc.authenticate(key, t + 31_000));
    expect((expired.error as LlmopsError).code).toBe('expired_api_key');

    // A wrong key is still a 401 once the store answers (an unknown token is never served from memory).
    store.mode = 'ok';
    const wrong = await timed(svc.authenticate('sk-llmops-not-a-real-key-000000000000', t + 40_000));
    expect((wrong.error as LlmopsError).code).toBe('invalid_api_key');
  });

  it('a key never seen waits no longer than the lookup timeout when the store does not answer', async () => {
    const { store, svc } = await setup();
    const { key } = await svc.create({ name: 'app' });
    store.mode = 'hang';
    const r = await timed(svc.authenticate(key));
    expect((r.error as LlmopsError).code).toBe('store_unavailable');
    expect(r.ms).toBeLessThan(KEY_LOOKUP_TIMEOUT_MS + 500);
  });

  it('cachedPrincipal answers from memory without a promise, like authenticate, and defers to it when the store must be asked', async () => {
    const { store, svc } = await setup();
    const t = 3_000_000;
    const { key } = await svc.create({ name: 'app', expiresAt: t + 5_000 }, t);
    expect(svc.cachedPrincipal(key, t)).toBeUndefined(); // never seen
    expect(svc.cachedPrincipal(undefined, t)).toBeUndefined(); // authenticate says why
    await svc.authenticate(key, t);
    store.lookups = 0;
    expect(svc.cachedPrincipal(key, t + 1000)?.name).toBe('app');
    expect(() => svc.cachedPrincipal(key, t + 6000)).toThrow(/expired/);
    expect(svc.cachedPrincipal(key, t + 11_000)).toBeUndefined(); // due for a refresh
    expect(store.lookups).toBe(0);
  });
});

describe('key rotation', () => {
  it('takes the old secret for its grace period only, even while the old secret is cached', async () => {
    const { svc } = await setup();
    const t0 = Date.now();
    const { key: first, record } = await svc.create({ name: 'rotating' }, t0);
    expect((await svc.authenticate(first, t0)).keyId).toBe(record.id);
    // A grace period shorter than the 10 s the key's record stays cached.
    const rotated = await svc.rotate(record.id, 5000, t0);
    expect(rotated!.record.previous_valid_until).toBe(t0 + 5000);
    // Both secrets are the same key within the grace period; the old one is now cached.
    expect((await svc.authenticate(first, t0 + 1000)).keyId).toBe(record.id);
    expect((await svc.authenticate(rotated!.key, t0 + 1000)).keyId).toBe(record.id);
    expect(svc.cachedPrincipal(first, t0 + 2000)?.keyId).toBe(record.id);
    // Past the grace period the cached old secret is refused, saying why; the new one goes on.
    expect(() => svc.cachedPrincipal(first, t0 + 5000)).toThrow(/was rotated: this, its previous secret, stopped working at /);
    await expect(svc.authenticate(first, t0 + 20_000)).rejects.toMatchObject({ code: 'invalid_api_key' });
    expect((await svc.authenticate(rotated!.key, t0 + 20_000)).keyId).toBe(record.id);
    expect(await svc.rotate('key_nope', 0)).toBeUndefined();
  });
});
