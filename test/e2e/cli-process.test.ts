/**
 * The built `llmops` binary as a real process: a bad config names the bad key and exits
 * non-zero; `serve` prints a working curl; SIGTERM lets in-flight calls finish and drains
 * every trace to SQLite before exit; `keys` and `traces tail` work against it; SIGHUP and
 * `llmops reload` read an edited config file again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/package-root.js';

const CLI = join(PACKAGE_ROOT, 'dist', 'src', 'cli.js');
const ADMIN = 'sk-llmops-admin-process-test-000000';
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function run(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, cwd: cwd ?? PACKAGE_ROOT });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function serve(config: string, dir: string, args: string[] = []): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const file = join(dir, 'llmops.yaml');
  writeFileSync(file, config);
  const child = spawn(process.execPath, [CLI, 'serve', '--config', file, '--port', '0', ...args], {
    env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: ADMIN },
    cwd: dir,
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${out}`)), 10_000);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
  });
  return { child, url, out: () => out };
}

/** A config on the demo provider with one public model, its SQLite store in `dir`. */
function demoConfig(dir: string, model: string): string {
  return [
    'server: { host: 127.0.0.1 }',
    `store: { url: "sqlite:${join(dir, 'llmops.db')}", trace_flush_ms: 50 }`,
    'providers_from_env: false',
    'providers:',
    '  demo: { type: demo }',
    'models:',
    `  ${model}: { targets: [{ provider: demo, model: demo-chat }] }`,
  ].join('\n');
}

/** The HTTP status of a chat call to `model` with the admin key. */
function chatStatus(url: string, model: string): Promise<number> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  }).then((r) => r.status);
}

describe('llmops binary', () => {
  it('rejects a bad config, naming the bad key, with a non-zero exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  prot: 8080\nmodels:\n  chat:\n    targets:\n      - provider: nowhere\n        model: x\n');
    const r = await run(['serve', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("server: unknown key 'prot'");
    const file2 = join(dir, 'bad2.yaml');
    writeFileSync(file2, 'providers:\n  openai:\n    api_key: ${MISSING_KEY_FOR_TEST}\nmodels:\n  chat:\n    targets:\n      - provider: nowhere\n        model: x\n');
    const r2 = await run(['serve', '--config', file2]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('providers.openai.api_key: environment variable MISSING_KEY_FOR_TEST is not set');
    expect(r2.stderr).toContain("models.chat.targets.0.provider: unknown provider 'nowhere'");
    const file3 = join(dir, 'bad3.yaml');
    writeFileSync(file3, 'server:\n  heap_growth_percent: -5\n');
    const r3 = await run(['serve', '--config', file3]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('server.heap_growth_percent');
  }, 30_000);

  it('refuses to start when its store is unreachable, naming it, with a non-zero exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-nostore-'));
    const file = join(dir, 'llmops.yaml');
    writeFileSync(file, 'store: { url: "postgres://llmops:secret@127.0.0.1:1/llmops" }\n');
    const r = await run(['serve', '--config', file, '--port', '0'], { LLMOPS_ADMIN_KEY: ADMIN }, dir);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('llmops: cannot start: the postgres store is unreachable');
    expect(r.stderr).toContain('postgres://llmops:***@127.0.0.1:1/llmops');
    expect(r.stdout).not.toContain('listening');
  }, 30_000);

  it('serves, prints a curl that works, manages keys, tails traces, and drains every trace on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-proc-'));
    const db = join(dir, 'data', 'llmops.db');
    const { child, url, out } = await serve(
      [
        'server: { host: 127.0.0.1, shutdown_grace_ms: 5000 }',
        `store: { url: "sqlite:${db}", trace_flush_ms: 50 }`,
        'providers_from_env: false',
        'providers:',
        '  demo: { type: demo, latency_ms: 300 }',
        'models:',
        '  demo: { targets: [{ provider: demo, model: demo-chat }] }',
      ].join('\n'),
      dir,
    );
    // The printed curl, run by a shell, works.
    const curl = /curl .*$/m.exec(out())![0];
    const shell = await new Promise<string>((resolve) => {
      const c = spawn('bash', ['-c', curl], { env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: ADMIN }, cwd: dir });
      let s = '';
      c.stdout.on('data', (d: Buffer) => (s += d.toString()));
      c.on('exit', () => resolve(s));
    });
    expect((JSON.parse(shell) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toContain('demo model');

    // Query commands: the call above is recorded within the flush interval.
    await new Promise((r) => setTimeout(r, 300));
    const env = { LLMOPS_ADMIN_KEY: ADMIN };
    const page = JSON.parse((await run(['traces', 'list', '--url', url, '--json'], env)).stdout) as { data: Array<{ trace_id: string }> };
    expect(page.data).toHaveLength(1);
    expect((await run(['traces', 'list', '--url', url], env)).stdout).toMatch(/TIME\s+TRACE\s+STATUS\s+MODEL/);
    expect((await run(['costs', '--by', 'feature', '--url', url], env)).stdout).toMatch(/FEATURE\s+REQUESTS\s+INPUT TOKENS/);
    expect((await run(['feedback', 'add', '--trace', page.data[0]!.trace_id, '--name', 'thumbs', '--value', 'false', '--url', url], env)).code).toBe(0);
    expect((await run(['traces', 'show', page.data[0]!.trace_id, '--url', url], env)).stdout).toContain('feedback thumbs = 0 (reviewer)');
    expect((await run(['prices', 'missing', '--url', url], env)).stdout).toContain('every model called since 30d has a price');

    const created = await run(['keys', 'create', '--name', 'cli-key', '--models', 'demo', '--url', url, '--json'], { LLMOPS_ADMIN_KEY: ADMIN });
    expect(created.code).toBe(0);
    const key = (JSON.parse(created.stdout) as { key: string; id: string });
    const updated = await run(['keys', 'update', key.id, '--name', 'cli-key', '--models', 'demo,demo-2', '--expires-in', '7d', '--url', url], { LLMOPS_ADMIN_KEY: ADMIN });
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain(`updated key ${key.id} (cli-key)`);
    expect(updated.stdout).toContain('models:  demo, demo-2');
    expect((await run(['keys', 'update', key.id, '--url', url], { LLMOPS_ADMIN_KEY: ADMIN })).code).toBe(2);
    // Rotated with a grace period: the calls below still use the old secret.
    const rotated = await run(['keys', 'rotate', key.id, '--grace', '1h', '--url', url], { LLMOPS_ADMIN_KEY: ADMIN });
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(new RegExp(`rotated key ${key.id} \\(cli-key\\); the old secret works until \\S+\\n\\n {2}sk-llmops-\\S+\\n`));
    const listed = await run(['keys', 'list', '--url', url], { LLMOPS_ADMIN_KEY: ADMIN });
    expect(listed.stdout).toMatch(/ID\s+NAME\s+PREFIX/);
    expect(listed.stdout).toContain('cli-key');

    const tail = spawn(process.execPath, [CLI, 'traces', 'tail', '--url', url], { env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: ADMIN } });
    children.push(tail);
    let tailed = '';
    tail.stdout.on('data', (d: Buffer) => (tailed += d.toString()));
    // `tail` says "tailing …" once its stream is connected.
    await new Promise<void>((resolve) => tail.stderr.on('data', (d: Buffer) => d.toString().includes('tailing') && resolve()));

    const call = () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key.key}`, 'content-type': 'application/json', 'x-llmops-feature': 'drain-test' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.status);
    const inFlight = Array.from({ length: 20 }, call);
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    expect(statuses.every((s) => s === 200)).toBe(true);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(tailed).toContain('demo → demo/demo-chat');
    tail.kill();

    const sqlite = new Database(db, { readonly: true });
    const n = (sqlite.prepare("SELECT count(*) AS n FROM traces WHERE feature = 'drain-test'").get() as { n: number }).n;
    const k = sqlite.prepare('SELECT last_used_at FROM keys WHERE id = ?').get(key.id) as { last_used_at: number | null };
    sqlite.close();
    expect(n).toBe(20);
    expect(k.last_used_at).toBeGreaterThan(0);
  }, 60_000); // several real processes start here; a loaded 2-core machine needs the time

  it('reads its edited config file again on SIGHUP and on `llmops reload`, and keeps the running one when the edit is invalid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-reload-'));
    const lines = (model: string): string => demoConfig(dir, model);
    const { child, url, out } = await serve(lines('first'), dir);
    const file = join(dir, 'llmops.yaml');
    const call = (model: string): Promise<number> => chatStatus(url, model);
    expect(await call('first')).toBe(200);

    writeFileSync(file, lines('second'));
    child.kill('SIGHUP');
    await expect.poll(out, { timeout: 5000 }).toContain('llmops: config reloaded from');
    expect(out()).toContain('(SIGHUP): applied models');
    expect(await call('second')).toBe(200);
    expect(await call('first')).toBe(404);

    writeFileSync(file, lines('third'));
    const env = { LLMOPS_ADMIN_KEY: ADMIN };
    const table = await run(['reload', '--url', url], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/SECTION\s+RESULT\n-+\s+-+\nmodels\s+applied\n/);
    expect(await call('third')).toBe(200);
    expect((await run(['reload', '--url', url], env)).stdout).toContain('no change');
    const shown = await run(['config', 'show', '--url', url], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`# source: ${file}`);
    expect(shown.stdout).toMatch(/^models:\n {2}third:\n/m);
    const audit = await run(['audit', '--action', 'config', '--url', url], env);
    expect(audit.stdout).toMatch(/^TIME\s+ACTOR\s+FROM\s+ACTION\s+TARGET\s+DETAILS\n/);
    expect(audit.stdout).toMatch(/admin\s+\S*127\.0\.0\.1\s+config\.reload\s/);
    expect(audit.stdout).toMatch(/signal:SIGHUP\s+-\s+config\.reload\s/);

    writeFileSync(file, `${lines('fourth')}\nserver: { prot: 1 }\n`);
    const bad = await run(['reload', '--url', url, '--json'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('HTTP 422');
    child.kill('SIGHUP');
    await expect.poll(out, { timeout: 5000 }).toContain('config reload failed (SIGHUP), the running config stays');
    expect(await call('third')).toBe(200);

    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('with --watch, reloads when the file is saved (also by rename), and only when its bytes changed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-watch-'));
    const lines = (model: string): string => demoConfig(dir, model);
    const { child, url, out } = await serve(lines('first'), dir, ['--watch']);
    const file = join(dir, 'llmops.yaml');
    await expect.poll(out).toContain(`watching ${file} for changes`);
    const call = (model: string): Promise<number> => chatStatus(url, model);
    const reloads = (): number => out().split('config reloaded from').length - 1;

    // An editor's save: a new file renamed over the old one.
    writeFileSync(`${file}.tmp`, lines('second'));
    renameSync(`${file}.tmp`, file);
    await expect.poll(reloads, { timeout: 5000 }).toBe(1);
    expect(out()).toContain('(file changed): applied models');
    expect(await call('second')).toBe(200);
    expect(await call('first')).toBe(404);

    // The same bytes written again, and another file in the folder: no reload.
    writeFileSync(file, lines('second'));
    writeFileSync(join(dir, 'notes.txt'), 'unrelated');
    await new Promise((r) => setTimeout(r, 1000));
    expect(reloads()).toBe(1);

    // An invalid save is refused and reported; fixing it reloads.
    writeFileSync(file, `${lines('third')}\nserver: { prot: 1 }\n`);
    await expect.poll(out, { timeout: 5000 }).toContain('config reload failed (file changed), the running config stays');
    expect(await call('second')).toBe(200);
    writeFileSync(file, lines('third'));
    await expect.poll(reloads, { timeout: 5000 }).toBe(2);
    expect(await call('third')).toBe(200);

    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);

  it('keeps serving, and stops on SIGTERM, after whatever read its output went away; `traces tail | head` ends quietly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmops-epipe-'));
    const { child, url } = await serve(
      [
        'server: { host: 127.0.0.1, log_level: debug }',
        `store: { url: "sqlite:${join(dir, 'llmops.db')}", trace_flush_ms: 50 }`,
        'providers_from_env: false',
        'providers:',
        '  demo: { type: demo }',
        'models:',
        '  demo: { targets: [{ provider: demo, model: demo-chat }] }',
      ].join('\n'),
      dir,
    );
    const tail = spawn(process.execPath, [CLI, 'traces', 'tail', '--url', url], { env: { PATH: process.env.PATH, LLMOPS_ADMIN_KEY: ADMIN } });
    children.push(tail);
    await new Promise<void>((resolve) => tail.stderr.on('data', (d: Buffer) => d.toString().includes('tailing') && resolve()));
    const tailExit = new Promise<number | null>((resolve) => tail.on('exit', resolve));
    // The readers go away: every later write to these pipes fails with EPIPE.
    child.stdout!.destroy();
    child.stderr!.destroy();
    tail.stdout.destroy();
    const call = (): Promise<number> =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
      }).then((r) => r.status);
    expect(await call()).toBe(200);
    expect(await call()).toBe(200);
    expect(await tailExit).toBe(0);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
