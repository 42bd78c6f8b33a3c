/**
 * The audit log through the real gateway: key created, limits set, key revoked, config
 * reloaded (applied and refused), cache cleared — each recorded once with the admin as actor
 * and the client's address, never a key's secret; `GET /api/audit` filters by action family,
 * time and limit, and is for the admin key only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let g: TestGateway | undefined;
afterEach(async () => {
  await g?.close();
  g = undefined;
});

const doc = (model = 'chat'): Record<string, unknown> => ({
  providers: { demo: { type: 'demo' } },
  models: { [model]: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
  limits: {},
  cache: {},
});

interface Event {
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
  source_ip: string | null;
}

describe('audit log', () => {
  it('records every administrative change with who, when, from where and what', async () => {
    g = await startTestGateway(doc());
    const t = g;
    const admin = { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' };
    const started = Date.now();
    const created = (await (await fetch(`${t.url}/admin/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'ci', models: ['chat'] }) })).json()) as { id: string; key: string };
    expect((await fetch(`${t.url}/admin/keys/${created.id}/limits`, { method: 'PUT', headers: admin, body: JSON.stringify({ limits: { rpm: 5 } }) })).status).toBe(200);
    expect((await fetch(`${t.url}/admin/keys/${created.id}`, { method: 'DELETE', headers: { authorization: admin.authorization } })).status).toBe(200);
    t.setDocument(doc('renamed'));
    expect((await fetch(`${t.url}/admin/reload`, { method: 'POST', headers: { authorization: admin.authorization } })).status).toBe(200);
    t.setDocument({ ...doc(), server: { prot: 1 } });
    expect((await fetch(`${t.url}/admin/reload`, { method: 'POST', headers: { authorization: admin.authorization } })).status).toBe(422);
    expect((await fetch(`${t.url}/admin/cache`, { method: 'DELETE', headers: { authorization: admin.authorization } })).status).toBe(200);

    const res = await fetch(`${t.url}/api/audit`, { headers: { authorization: admin.authorization } });
    expect(res.status).toBe(200);
    const raw = await res.text();
    expect(raw).not.toContain(created.key);
    const { data } = JSON.parse(raw) as { data: Event[] };
    expect(data.map((e) => e.action)).toEqual(['cache.clear', 'config.reload_failed', 'config.reload', 'key.revoke', 'key.limits', 'key.create']);
    for (const e of data) {
      expect(e.actor).toBe('admin');
      expect(e.source_ip).toMatch(/127\.0\.0\.1$/);
      expect(Date.parse(e.at)).toBeGreaterThanOrEqual(started - 1000);
    }
    const by = Object.fromEntries(data.map((e) => [e.action, e]));
    expect(by['key.create']).toMatchObject({ target: created.id, details: { name: 'ci', models: ['chat'] } });
    expect(by['key.limits']).toMatchObject({ target: created.id, details: { name: 'ci', limits: { rpm: 5 } } });
    expect(by['key.revoke']).toMatchObject({ target: created.id, details: { name: 'ci' } });
    expect(by['config.reload']).toMatchObject({ target: 'inline', details: { applied: ['models'], restart_required: [] } });
    expect(String(by['config.reload_failed']!.details!.error)).toContain("server: unknown key 'prot'");
    expect(by['cache.clear']).toMatchObject({ target: null, details: { backend: 'memory' } });

    const keysOnly = (await (await fetch(`${t.url}/api/audit?action=key&limit=2`, { headers: { authorization: admin.authorization } })).json()) as { data: Event[] };
    expect(keysOnly.data.map((e) => e.action)).toEqual(['key.revoke', 'key.limits']);
    const future = (await (await fetch(`${t.url}/api/audit?since=${Date.now() + 60_000}`, { headers: { authorization: admin.authorization } })).json()) as { data: Event[] };
    expect(future.data).toEqual([]);
    const bad = await fetch(`${t.url}/api/audit?limit=0`, { headers: { authorization: admin.authorization } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('limit');
  });

  it('is for the admin key only', async () => {
    g = await startTestGateway({ ...doc(), keys: [{ name: 'reader', key: 'sk-reader-0123456789abcdef', roles: ['read'] }] });
    expect((await fetch(`${g.url}/api/audit`)).status).toBe(401);
    const res = await fetch(`${g.url}/api/audit`, { headers: { authorization: 'Bearer sk-reader-0123456789abcdef' } });
    expect(res.status).toBe(403);
  });

  it('records reloads the process started itself with their trigger as actor', async () => {
    g = await startTestGateway(doc());
    g.setDocument(doc('other'));
    await g.gw.reload(undefined, { actor: 'signal:SIGHUP' });
    const [e] = await g.gw.store.listAuditEvents({ limit: 1 });
    expect(e).toMatchObject({ actor: 'signal:SIGHUP', action: 'config.reload', source_ip: null });
  });
});
