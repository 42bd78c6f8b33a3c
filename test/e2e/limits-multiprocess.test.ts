/**
 * Budgets across instances: three real gateway processes (the built `llmops` binary) share
 * one Redis (LLMOPS_TEST_REDIS_URL; the test fails without it). 200 concurrent requests
 * against a budget that allows about 50: total spend must not exceed the budget by more
 * than one request's reservation per instance, and every refusal must say which budget
 * refused it. `llmops budgets` reads the shared spend from any instance.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli.js');
const ADMIN = 'sk-llmops-admin-limits-test-000000';
const REDIS_URL = process.env.LLMOPS_TEST_REDIS_URL;
const PREFIX = `llmops-mp-${randomBytes(6).toString('hex')}`;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (REDIS_URL) {
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(`${PREFIX}:*`);
    if (keys.length) await r.del(...keys);
    await r.quit();
  }
});

async function serve(config: string): Promise<{ child: ChildProcess; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'llmops-mp-'));
  const file = join(dir, 'llmops.yaml');
  writeFileSync(file, config);
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file, '--port', '0'], { env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: ADMIN }, cwd: dir });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 15_000);
    child.stdout!.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`gateway exited (${code}):\n${out}`)));
  });
  return { child, url };
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: ADMIN } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// Every request is the same, so the demo model answers it the same way at the same cost.
const BODY = JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'Summarize the plot of Hamlet.' }], max_tokens: 60 });
const PRICE = { input: 0.15, output: 0.6 }; // demo-chat, USD per million tokens

describe('budgets across three gateway processes sharing Redis', () => {
  it('has LLMOPS_TEST_REDIS_URL', () => {
    expect(REDIS_URL, 'set LLMOPS_TEST_REDIS_URL=redis://127.0.0.1:6379').toBeTruthy();
  });

  it('200 concurrent requests never overspend a shared budget, and every refusal names it', async () => {
    // Measure one request's cost and reservation on a gateway without budgets.
    const probe = await serve(
      ['providers_from_env: false', 'store: { url: "sqlite::memory:" }', 'providers: { demo: { type: demo } }', 'models: { demo: { targets: [{ provider: demo, model: demo-chat }] } }'].join('\n'),
    );
    const one = await fetch(`${probe.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: BODY });
    const usage = ((await one.json()) as { usage: { prompt_tokens: number; completion_tokens: number } }).usage;
    const cost = Number(one.headers.get('x-llmops-cost-usd'));
    const reservation = (usage.prompt_tokens * PRICE.input + 60 * PRICE.output) / 1e6;
    expect(cost).toBeGreaterThan(0);
    probe.child.kill('SIGTERM');

    const budget = Number((cost * 50).toFixed(9));
    const config = [
      'providers_from_env: false',
      'store: { url: "sqlite::memory:", trace_flush_ms: 50 }',
      `redis: { url: "${REDIS_URL}", key_prefix: "${PREFIX}" }`,
      // Some latency, so requests on different instances are in flight together.
      'providers: { demo: { type: demo, latency_ms: 30 } }',
      'models: { demo: { targets: [{ provider: demo, model: demo-chat }] } }',
      'budgets:',
      '  rules:',
      `    - { name: shared-daily, scope: global, limit_usd: ${budget}, window: day }`,
    ].join('\n');
    const gws = await Promise.all([serve(config), serve(config), serve(config)]);

    // All 200 at once, spread over the three instances.
    const results: Array<{ status: number; cost: number; error?: { code: string; message: string; type: string } }> = [];
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await fetch(`${gws[i % 3]!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: BODY,
        });
        const body = (await res.json()) as { error?: { code: string; message: string; type: string } };
        results.push({ status: res.status, cost: Number(res.headers.get('x-llmops-cost-usd') ?? 0), ...(body.error ? { error: body.error } : {}) });
      }),
    );

    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.length + refused.length).toBe(200);
    for (const r of refused) {
      expect(r.status).toBe(402);
      expect(r.error?.code).toBe('budget_exceeded');
      expect(r.error?.message).toContain("Budget 'shared-daily'");
    }
    const spent = ok.reduce((s, r) => s + r.cost, 0);
    expect(spent).toBeLessThanOrEqual(budget + 3 * reservation + 1e-12);

    // Once settled, the shared counter holds exactly the real spend, seen from any instance.
    await new Promise((r) => setTimeout(r, 200));
    const cli = await run(['budgets', '--url', gws[2]!.url, '--json']);
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.stdout) as { backend: string; data: Array<{ budget: string; spent_usd: number; limit_usd: number }> };
    expect(report.backend).toBe('redis');
    const row = report.data.find((d) => d.budget === 'shared-daily')!;
    expect(row.limit_usd).toBe(budget);
    expect(row.spent_usd).toBeCloseTo(spent, 9);
    const table = await run(['budgets', '--url', gws[0]!.url]);
    expect(table.stdout).toMatch(/BUDGET\s+SCOPE\s+SUBJECT\s+WINDOW\s+SPENT/);
    expect(table.stdout).toContain('shared-daily');

    // A later request is refused by any instance with the same reason.
    for (const g of gws) {
      const res = await fetch(`${g.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: BODY });
      if (res.status === 200) continue; // a sliver of budget may remain for exactly one more call
      expect(res.status).toBe(402);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("Budget 'shared-daily'");
    }

    // Per-key limits from the CLI, enforced by every instance (the key lives in each instance's
    // own SQLite store here, so it is created on one and used there).
    const created = await run(['keys', 'create', '--name', 'capped', '--rpm', '1', '--budget', '2', '--budget-window', 'month', '--url', gws[1]!.url, '--json']);
    expect(created.code).toBe(0);
    const key = JSON.parse(created.stdout) as { id: string; key: string; limits: unknown };
    expect(key.limits).toEqual({ rpm: 1, budget: { limit_usd: 2, window: 'month' } });
    const updated = await run(['keys', 'limits', key.id, '--rpm', '5', '--url', gws[1]!.url, '--json']);
    expect((JSON.parse(updated.stdout) as { limits: unknown }).limits).toEqual({ rpm: 5 });
    expect((await run(['keys', 'limits', key.id, '--url', gws[1]!.url])).code).toBe(2);
    const listed = await run(['keys', 'list', '--url', gws[1]!.url]);
    expect(listed.stdout).toMatch(/capped\s+sk-llmops-\S+\s+all\s+rpm 5\s+active/);
    for (const g of gws) g.child.kill('SIGTERM');
  }, 60_000);
});
