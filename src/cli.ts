#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * The `llmops` command line: `serve` runs the gateway; `keys` and `traces` talk to a
 * running gateway's admin API (`--url`, default LLMOPS_URL or http://127.0.0.1:8080) with
 * the admin key (LLMOPS_ADMIN_KEY, else `.llmops/admin-key`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Command, InvalidArgumentError } from 'commander';
import { stringify as stringifyYaml } from 'yaml';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { watchConfigFile } from './config/watch.js';
import { createGateway, resolveAdminKey } from './gateway.js';
import { StoreStartError } from './store/store-errors.js';
import { guardStdio, writeStdout } from './logger.js';
import { keepWasmAtBaseline } from './node-flags.js';
import { parseSse } from './sse.js';
import type { TraceRecord } from './store/types.js';
import { renderTable } from './table.js';
import { renderBudgets, type BudgetReport } from './limits/budget-table.js';
import { addKeyLimitOptions, describeKeyLimits, keyLimitsFrom, type KeyLimitOptions } from './limits/cli-options.js';

const program = new Command();
program.name('llmops').description('LLMOps gateway: one OpenAI-compatible API over every provider, with traces and costs');

function loadOrExit(path: string | undefined): Config {
  try {
    return loadConfig({ path });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** A store URL without its password, for messages. */
function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return n;
}

program
  .command('serve')
  .description('run the gateway')
  .option('-c, --config <file>', 'config file (default: LLMOPS_CONFIG, ./llmops.yaml, or the embedded defaults)')
  .option('-p, --port <n>', 'port to listen on (overrides server.port)', port)
  .option('--host <host>', 'address to listen on (overrides server.host)')
  .option('--watch', 'reload the config file whenever it changes (as SIGHUP does)')
  .action(async (opts: { config?: string; port?: number; host?: string; watch?: boolean }) => {
    // A gateway whose log reader goes away keeps serving (and can still be stopped).
    guardStdio();
    const config = loadOrExit(opts.config);
    // V8 reads this flag at every full GC, so setting it after start takes effect. Under load
    // its own heuristic let the heap reach ~4x the live size; the default 50% keeps the
    // request thread's old generation between about 25 and 37 MB (paired runs in the README:
    // 10-13 MB less peak RSS than 100%, CPU per request within the noise).
    if (config.server.heap_growth_percent > 0) {
      try {
        setFlagsFromString(`--heap-growing-percent=${config.server.heap_growth_percent}`);
      } catch (err) {
        process.stderr.write(`llmops: server.heap_growth_percent not applied (${(err as Error).message}); V8 sizes the heap itself\n`);
      }
    }
    keepWasmAtBaseline();
    const admin = resolveAdminKey(config);
    let gw: ReturnType<typeof createGateway>;
    try {
      // A reload (SIGHUP, POST /admin/reload) reads the same file again (or the defaults and environment).
      gw = createGateway({ config, adminKey: admin.key, loadConfig: () => loadConfig({ path: opts.config }) });
      await gw.ready();
    } catch (err) {
      if (!(err instanceof StoreStartError)) throw err;
      process.stderr.write(`llmops: cannot start: ${err.message} (store.url: ${redactUrl(config.store.url)})\n`);
      process.exit(3);
    }
    // A bug in one request must not take the gateway (and every other request) down.
    process.on('unhandledRejection', (err) => gw.log.error('unhandled rejection', { err }));
    process.on('uncaughtException', (err) => gw.log.error('uncaught exception', { err }));
    let url: string;
    try {
      url = await gw.listen(opts.port ?? config.server.port, opts.host ?? config.server.host);
    } catch (err) {
      process.stderr.write(`llmops: cannot listen: ${(err as Error).message}\n`);
      await gw.close();
      process.exit(1);
    }
    const providers = Object.entries(config.providers).map(([n, p]) => `${n} (${p.type})`).join(', ');
    const models = gw.router.publicModels().map((m) => m.name);
    const keyRef = admin.source === 'env' ? '$LLMOPS_ADMIN_KEY' : `$(cat ${admin.file})`;
    const example = models.includes('demo') ? 'demo' : (models[0] ?? 'provider/model');
    writeStdout(
      [
        `llmops listening on ${url}  (config: ${config.source}, store: ${config.store.url})`,
        `providers: ${providers || 'none'}`,
        `models: ${models.join(', ') || 'none (use provider/model)'}`,
        admin.source === 'generated' ? `admin key generated and saved to ${admin.file}` : `admin key from ${admin.source === 'env' ? 'LLMOPS_ADMIN_KEY' : admin.file}`,
        '',
        'Try it:',
        `  curl -s ${url}/v1/chat/completions -H "Authorization: Bearer ${keyRef}" -H "Content-Type: application/json" -d '{"model":"${example}","messages":[{"role":"user","content":"Hello!"}]}'`,
        '',
      ].join('\n'),
    );
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      writeStdout(`llmops: ${signal} received, draining\n`);
      gw.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`llmops: shutdown failed: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    const reload = (trigger: string, actor: string): void => {
      if (stopping) return;
      gw.reload(undefined, { actor }).then(
        (r) => writeStdout(`llmops: config reloaded from ${r.source} (${trigger}): ${r.applied.length ? `applied ${r.applied.join(', ')}` : 'no change'}${r.restart_required.length ? `; needs a restart: ${r.restart_required.join(', ')}` : ''}\n`),
        (err: unknown) => process.stderr.write(`llmops: config reload failed (${trigger}), the running config stays: ${(err as Error).message}\n`),
      );
    };
    process.on('SIGHUP', () => reload('SIGHUP', 'signal:SIGHUP'));
    if (opts.watch) {
      if (config.source === 'defaults') writeStdout('llmops: --watch: no config file to watch (running on the embedded defaults)\n');
      else {
        watchConfigFile(config.source, () => reload('file changed', 'watch'));
        writeStdout(`llmops: watching ${config.source} for changes\n`);
      }
    }
  });

program
  .command('reload')
  .description('make a running gateway read its config file again (as SIGHUP does)')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions) => {
    const r = (await api(o, 'POST', '/admin/reload')) as { source: string; applied: string[]; restart_required: string[] };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const rows = [...r.applied.map((s) => [s, 'applied']), ...r.restart_required.map((s) => [s, 'changed; needs a restart'])];
    process.stdout.write(rows.length === 0 ? `no change (config: ${r.source})\n` : `${renderTable(['SECTION', 'RESULT'], rows)}config: ${r.source}\n`);
  });

interface ClientOptions {
  url?: string;
  json?: boolean;
}

function adminKey(): string {
  if (process.env.LLMOPS_ADMIN_KEY) return process.env.LLMOPS_ADMIN_KEY;
  const file = '.llmops/admin-key';
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  process.stderr.write('llmops: no admin key: set LLMOPS_ADMIN_KEY (or run from the folder holding .llmops/admin-key)\n');
  process.exit(2);
}

function baseUrl(opts: ClientOptions): string {
  return (opts.url ?? process.env.LLMOPS_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
}

async function api(opts: ClientOptions, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${baseUrl(opts)}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminKey()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    process.stderr.write(`llmops: cannot reach ${baseUrl(opts)}: ${(err as Error).message} (is the gateway running? set --url or LLMOPS_URL)\n`);
    process.exit(1);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave as text
  }
  if (!res.ok) {
    const msg = (parsed as { error?: { message?: string } })?.error?.message ?? text;
    process.stderr.write(`llmops: ${method} ${path} failed (HTTP ${res.status}): ${msg}\n`);
    process.exit(1);
  }
  return parsed;
}

const iso = (ms: number | null | undefined): string => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-');

function parseDuration(value: string): number {
  const m = /^(\d+)\s*(m|h|d|w)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 30m, 12h, 7d or 4w');
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

program
  .command('config')
  .description('the running gateway\'s config (admin API)')
  .command('show')
  .description('print the config that runs (YAML, secrets redacted), where it came from and what waits for a restart')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions) => {
    const r = (await api(o, 'GET', '/admin/config')) as { source: string; loaded_at: string; restart_required: string[]; config: unknown };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const head = [`# source: ${r.source}`, `# loaded at: ${r.loaded_at}`];
    if (r.restart_required.length > 0) head.push(`# changed in the file, waiting for a restart: ${r.restart_required.join(', ')}`);
    process.stdout.write(`${head.join('\n')}\n${stringifyYaml(r.config)}`);
  });

program
  .command('audit')
  .description('the audit log: who changed keys, the config and the cache, and when (admin API)')
  .option('--action <action>', 'an action (key.create) or a family (key, config, cache)')
  .option('--since <when>', 'how far back: a duration (24h, 7d) or a date', '30d')
  .option('--limit <n>', 'at most this many events (1-1000)', '100')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions & { action?: string; since: string; limit: string }) => {
    const qs = new URLSearchParams({ since: o.since, limit: o.limit, ...(o.action ? { action: o.action } : {}) });
    const { data } = (await api(o, 'GET', `/api/audit?${qs}`)) as {
      data: Array<{ at: string; actor: string; action: string; target: string | null; details: Record<string, unknown> | null; source_ip: string | null }>;
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      renderTable(
        ['TIME', 'ACTOR', 'FROM', 'ACTION', 'TARGET', 'DETAILS'],
        data.map((e) => [e.at.replace('.000Z', 'Z'), e.actor, e.source_ip ?? '-', e.action, e.target ?? '-', e.details ? JSON.stringify(e.details) : '-']),
      ),
    );
  });

program
  .command('cache')
  .description('the response cache (admin API)')
  .command('clear')
  .description('drop every cached answer, exact and semantic')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions) => {
    const r = (await api(o, 'DELETE', '/admin/cache')) as { backend: string };
    process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : `cache cleared (${r.backend})\n`);
  });

/** `a, b,c` → `['a', 'b', 'c']`. */
function commaList(v: string): string[] {
  return v.split(',').map((x) => x.trim()).filter(Boolean);
}

/** `--metadata`'s JSON (undefined when not given); exits 2 when it is not JSON. */
function metadataOption(json: string | undefined): unknown {
  if (json === undefined) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    process.stderr.write('llmops: --metadata must be a JSON object (or null)\n');
    process.exit(2);
  }
}

const keys = program.command('keys').description('manage virtual keys (admin API)');
addKeyLimitOptions(keys.command('create'))
  .description('create a virtual key; prints the secret once')
  .requiredOption('-n, --name <name>', 'a name for the key')
  .option('-m, --models <models>', 'comma-separated models the key may use (globs allowed: openai/*)')
  .option('--roles <roles>', 'comma-separated extra rights: read (query API)')
  .option('--expires-in <duration>', 'expiry from now: 30m, 12h, 7d, 4w', parseDuration)
  .option('--metadata <json>', 'JSON object of metadata')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions & KeyLimitOptions & { name: string; models?: string; roles?: string; expiresIn?: number; metadata?: string }) => {
    const limits = keyLimitsFrom(o);
    const metadata = metadataOption(o.metadata);
    const created = (await api(o, 'POST', '/admin/keys', {
      name: o.name,
      ...(o.models ? { models: commaList(o.models) } : {}),
      ...(o.roles ? { roles: commaList(o.roles) } : {}),
      ...(o.expiresIn ? { expires_at: Date.now() + o.expiresIn } : {}),
      ...(metadata === undefined ? {} : { metadata }),
      ...(limits ? { limits } : {}),
    })) as { id: string; key: string; name: string; models: string[] | null; expires_at: number | null };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      `created key ${created.id} (${created.name})\n  models:  ${created.models?.join(', ') ?? 'all'}\n  expires: ${iso(created.expires_at)}\n\n  ${created.key}\n\nStore it now: it is not shown again.\n`,
    );
  });
keys
  .command('list')
  .description('list virtual keys')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions) => {
    const { data } = (await api(o, 'GET', '/admin/keys')) as { data: Array<Record<string, unknown>> };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    const now = Date.now();
    process.stdout.write(
      renderTable(
        ['ID', 'NAME', 'PREFIX', 'MODELS', 'LIMITS', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED'],
        data.map((k) => [
          String(k.id),
          String(k.name),
          `${String(k.key_prefix)}…`,
          Array.isArray(k.models) ? k.models.join(',') : 'all',
          describeKeyLimits(k.limits),
          k.revoked_at ? 'revoked' : typeof k.expires_at === 'number' && k.expires_at <= now ? 'expired' : 'active',
          iso(k.created_at as number),
          iso(k.expires_at as number | null),
          iso(k.last_used_at as number | null),
        ]),
      ),
    );
  });
keys
  .command('update <id>')
  .description("change a key's name, models, roles, expiry or metadata in place (its secret stays)")
  .option('-n, --name <name>', 'a new name')
  .option('-m, --models <models>', 'comma-separated models the key may use (replaces the list)')
  .option('--all-models', 'let the key use every model')
  .option('--roles <roles>', "comma-separated extra rights (read), or '' for none")
  .option('--expires-in <duration>', 'new expiry from now: 30m, 12h, 7d, 4w', parseDuration)
  .option('--never-expires', 'remove the expiry')
  .option('--metadata <json>', 'JSON object of metadata (replaces it), or null')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (id: string, o: ClientOptions & { name?: string; models?: string; allModels?: boolean; roles?: string; expiresIn?: number; neverExpires?: boolean; metadata?: string }) => {
    const metadata = metadataOption(o.metadata);
    if ((o.models !== undefined && o.allModels) || (o.expiresIn !== undefined && o.neverExpires)) {
      process.stderr.write('llmops: give --models or --all-models, --expires-in or --never-expires, not both\n');
      process.exit(2);
    }
    const body = {
      ...(o.name !== undefined ? { name: o.name } : {}),
      ...(o.models !== undefined ? { models: commaList(o.models) } : o.allModels ? { models: null } : {}),
      ...(o.roles !== undefined ? { roles: commaList(o.roles) } : {}),
      ...(o.expiresIn !== undefined ? { expires_at: Date.now() + o.expiresIn } : o.neverExpires ? { expires_at: null } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    };
    if (Object.keys(body).length === 0) {
      process.stderr.write('llmops: nothing to change: give --name, --models, --all-models, --roles, --expires-in, --never-expires or --metadata\n');
      process.exit(2);
    }
    const k = (await api(o, 'PATCH', `/admin/keys/${encodeURIComponent(id)}`, body)) as { id: string; name: string; models: string[] | null; expires_at: number | null };
    process.stdout.write(o.json ? `${JSON.stringify(k, null, 2)}\n` : `updated key ${k.id} (${k.name})\n  models:  ${k.models?.join(', ') ?? 'all'}\n  expires: ${iso(k.expires_at)}\n`);
  });
keys
  .command('rotate <id>')
  .description('give a key a new secret (printed once); its id, limits, spend and traces stay')
  .option('--grace <duration>', 'how long the old secret keeps working: 30m, 12h, 7d (default: it stops at once)', parseDuration)
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (id: string, o: ClientOptions & { grace?: number }) => {
    const r = (await api(o, 'POST', `/admin/keys/${encodeURIComponent(id)}/rotate`, { grace_seconds: Math.round((o.grace ?? 0) / 1000) })) as {
      id: string;
      name: string;
      key: string;
      previous_valid_until: number | null;
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      return;
    }
    const old = r.previous_valid_until === null ? 'the old secret stopped working now' : `the old secret works until ${iso(r.previous_valid_until)}`;
    process.stdout.write(`rotated key ${r.id} (${r.name}); ${old}\n\n  ${r.key}\n\nStore it now: it is not shown again.\n`);
  });
addKeyLimitOptions(keys.command('limits <id>'))
  .description("set a key's own rate limits and budget (replacing its previous ones), or --clear them")
  .option('--clear', 'remove the key\'s own limits')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (id: string, o: ClientOptions & KeyLimitOptions & { clear?: boolean }) => {
    const limits = o.clear ? null : keyLimitsFrom(o);
    if (limits === undefined) {
      process.stderr.write('llmops: give --rpm, --tpm and/or --budget (or --clear)\n');
      process.exit(2);
    }
    const res = (await api(o, 'PUT', `/admin/keys/${encodeURIComponent(id)}/limits`, { limits })) as { limits: unknown };
    process.stdout.write(o.json ? `${JSON.stringify(res, null, 2)}\n` : `limits of ${id}: ${JSON.stringify(res.limits)}\n`);
  });
keys
  .command('revoke <id>')
  .description('revoke a virtual key')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (id: string, o: ClientOptions) => {
    const res = await api(o, 'DELETE', `/admin/keys/${encodeURIComponent(id)}`);
    process.stdout.write(o.json ? `${JSON.stringify(res, null, 2)}\n` : `revoked ${id}\n`);
  });

function traceLine(t: TraceRecord): string {
  const tokens = t.input_tokens === null ? '-' : `${t.input_tokens}→${t.output_tokens}${t.tokens_estimated ? '~' : ''}`;
  const cost = t.cost_usd === null ? '$?' : `$${t.cost_usd.toFixed(6)}`;
  const fallback = t.attempts.length > 1 ? ` attempts=${t.attempts.length}` : '';
  const tags = [t.user_id && `user=${t.user_id}`, t.feature && `feature=${t.feature}`].filter(Boolean).join(' ');
  return [
    iso(t.started_at),
    t.status === 'ok' ? 'OK ' : 'ERR',
    String(t.http_status),
    `${t.requested_model ?? '-'} → ${t.provider ?? '-'}/${t.provider_model ?? '-'}`,
    `${Math.round(t.latency_ms)}ms${t.ttft_ms === null ? '' : ` (ttft ${Math.round(t.ttft_ms)}ms)`}`,
    tokens,
    cost,
    t.stream ? 'stream' : '',
    t.error_code ?? '',
    tags + fallback,
  ]
    .filter((s) => s !== '')
    .join('  ');
}

const traces = program.command('traces').description('inspect recorded calls');
traces
  .command('tail')
  .description('print calls as they happen')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print one JSON object per line')
  .action(async (o: ClientOptions) => {
    let res: Response;
    try {
      res = await fetch(`${baseUrl(o)}/api/traces/stream`, { headers: { authorization: `Bearer ${adminKey()}` } });
    } catch (err) {
      process.stderr.write(`llmops: cannot reach ${baseUrl(o)}: ${(err as Error).message}\n`);
      process.exit(1);
    }
    if (!res.ok || !res.body) {
      process.stderr.write(`llmops: tail failed (HTTP ${res.status}): ${await res.text()}\n`);
      process.exit(1);
    }
    if (!o.json) process.stderr.write(`tailing ${baseUrl(o)} (Ctrl-C to stop)\n`);
    for await (const ev of parseSse(res.body as AsyncIterable<Uint8Array>)) {
      if (ev.event === 'dropped') {
        const { dropped } = JSON.parse(ev.data) as { dropped: number };
        process.stderr.write(`llmops: ${dropped} call(s) not shown: this terminal read slower than calls were recorded\n`);
        continue;
      }
      if (ev.event !== 'trace') continue;
      const t = JSON.parse(ev.data) as TraceRecord;
      process.stdout.write(`${o.json ? ev.data : traceLine(t)}\n`);
    }
  });

const filterOptions = (c: Command): Command =>
  c
    .option('--since <when>', 'start: a duration back from now (15m, 24h, 7d) or a date', '24h')
    .option('--until <when>', 'end: a duration back from now or a date')
    .option('--model <name>')
    .option('--provider <name>')
    .option('--key <id>')
    .option('--user <id>')
    .option('--feature <name>')
    .option('--session <id>')
    .option('--status <ok|error>')
    .option('--url <url>', 'gateway URL')
    .option('--json', 'print JSON');

type FilterOpts = ClientOptions & Record<string, string | boolean | undefined>;

function filterQuery(o: FilterOpts, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  const map: Record<string, string> = { since: 'since', until: 'to', model: 'model', provider: 'provider', key: 'key', user: 'user', feature: 'feature', session: 'session', status: 'status' };
  for (const [opt, param] of Object.entries(map)) if (typeof o[opt] === 'string') q.set(param, o[opt]);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
  return q.toString();
}

filterOptions(traces.command('list').description('list recorded calls, newest first'))
  .option('--limit <n>', 'rows', '50')
  .action(async (o: FilterOpts) => {
    const page = (await api(o, 'GET', `/api/traces?${filterQuery(o, { limit: String(o.limit) })}`)) as { data: TraceRecord[]; next_cursor: string | null };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      renderTable(
        ['TIME', 'TRACE', 'STATUS', 'MODEL', 'PROVIDER/MODEL', 'LATENCY', 'TOKENS', 'COST', 'FEATURE', 'USER'],
        page.data.map((t) => [
          iso(t.started_at),
          t.trace_id.slice(0, 16),
          t.status === 'ok' ? String(t.http_status || 'ok') : `${t.http_status} ${t.error_code ?? ''}`.trim(),
          t.requested_model ?? t.name ?? '-',
          t.provider ? `${t.provider}/${t.provider_model}` : '-',
          `${Math.round(t.latency_ms)}ms`,
          t.input_tokens === null ? '-' : `${t.input_tokens}/${t.output_tokens}${t.tokens_estimated ? '~' : ''}`,
          t.cost_usd === null ? '?' : `$${t.cost_usd.toFixed(6)}`,
          t.feature ?? '-',
          t.user_id ?? '-',
        ]),
      ),
    );
    if (page.next_cursor) process.stdout.write(`(more: use --json and /api/traces?cursor=${page.next_cursor})\n`);
  });

traces
  .command('show <id>')
  .description('one trace (or call) with every call, span and its feedback')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (id: string, o: ClientOptions) => {
    const tree = (await api(o, 'GET', `/api/traces/${encodeURIComponent(id)}`)) as {
      trace_id: string;
      calls: TraceRecord[];
      feedback: Array<{ name: string; value_number: number | null; value_string: string | null; source: string; comment: string | null }>;
      totals: { cost_usd: number; input_tokens: number; output_tokens: number };
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(tree, null, 2)}\n`);
      return;
    }
    process.stdout.write(`trace ${tree.trace_id}: ${tree.calls.length} call(s)/span(s), ${tree.totals.input_tokens}→${tree.totals.output_tokens} tokens, $${tree.totals.cost_usd.toFixed(6)}\n`);
    const children = new Map<string | null, TraceRecord[]>();
    const ids = new Set(tree.calls.map((c) => c.id));
    for (const c of tree.calls) {
      const parent = c.parent_id !== null && ids.has(c.parent_id) ? c.parent_id : null;
      children.set(parent, [...(children.get(parent) ?? []), c]);
    }
    const print = (parent: string | null, depth: number): void => {
      for (const c of children.get(parent) ?? []) {
        process.stdout.write(`${'  '.repeat(depth + 1)}${c.kind === 'llm' ? '●' : '○'} ${c.kind === 'llm' ? traceLine(c) : `${c.name ?? c.id}  ${Math.round(c.latency_ms)}ms  ${c.status}`}\n`);
        print(c.id, depth + 1);
      }
    };
    print(null, 0);
    for (const f of tree.feedback) {
      process.stdout.write(`  feedback ${f.name} = ${f.value_string ?? f.value_number} (${f.source})${f.comment ? ` "${f.comment}"` : ''}\n`);
    }
  });

filterOptions(program.command('costs').description('cost totals by feature, user, model, provider or key'))
  .option('--by <group>', 'model | provider | feature | user | key | environment', 'model')
  .action(async (o: FilterOpts) => {
    const res = (await api(o, 'GET', `/api/costs?${filterQuery(o, { by: String(o.by) })}`)) as {
      total_cost_usd: number;
      data: Array<{ group: string | null; requests: number; input_tokens: number; output_tokens: number; cost_usd: number; unknown_cost_requests: number }>;
    };
    if (o.json) {
      process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
      return;
    }
    process.stdout.write(
      renderTable(
        [String(o.by).toUpperCase(), 'REQUESTS', 'INPUT TOKENS', 'OUTPUT TOKENS', 'COST USD', 'UNPRICED'],
        [...res.data]
          .sort((a, b) => b.cost_usd - a.cost_usd)
          .map((r) => [r.group ?? '(none)', String(r.requests), String(r.input_tokens), String(r.output_tokens), r.cost_usd.toFixed(6), String(r.unknown_cost_requests)]),
      ),
    );
    process.stdout.write(`total $${res.total_cost_usd.toFixed(6)}\n`);
  });

program
  .command('feedback')
  .description('feedback on traces')
  .command('add')
  .description('record feedback: a number, true/false (thumbs up/down) or a category')
  .requiredOption('--trace <id>', 'trace id')
  .requiredOption('--name <name>', 'e.g. thumbs, rating, correctness')
  .requiredOption('--value <value>', 'number, true/false, or a category word')
  .option('--comment <text>')
  .option('--source <source>', 'user | reviewer | judge', 'reviewer')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions & { trace: string; name: string; value: string; comment?: string; source: string }) => {
    const value = o.value === 'true' ? true : o.value === 'false' ? false : /^-?\d+(\.\d+)?$/.test(o.value) ? Number(o.value) : o.value;
    const res = await api(o, 'POST', '/api/feedback', { trace_id: o.trace, name: o.name, value, source: o.source, ...(o.comment ? { comment: o.comment } : {}) });
    process.stdout.write(o.json ? `${JSON.stringify(res, null, 2)}\n` : `recorded ${o.name}=${String(value)} on ${o.trace}\n`);
  });

program
  .command('prices')
  .description('the price table')
  .command('missing')
  .description('models called without a known price (their cost is recorded as unknown)')
  .option('--since <when>', 'how far back to look: 24h, 7d, 30d', '30d')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions & { since: string }) => {
    const costs = (await api(o, 'GET', `/api/costs?by=model&since=${encodeURIComponent(o.since)}`)) as {
      data: Array<{ group: string | null; unknown_cost_requests: number }>;
    };
    const rows: Array<{ requested_model: string; provider: string; provider_model: string; unpriced_calls: number }> = [];
    for (const g of costs.data.filter((r) => r.unknown_cost_requests > 0 && r.group !== null)) {
      const page = (await api(o, 'GET', `/api/traces?model=${encodeURIComponent(g.group!)}&since=${encodeURIComponent(o.since)}&limit=200`)) as { data: TraceRecord[] };
      const served = new Set(page.data.filter((t) => t.cost_usd === null && t.provider_model).map((t) => `${t.provider}\u0000${t.provider_model}`));
      for (const s of served) {
        const [provider, model] = s.split('\u0000') as [string, string];
        rows.push({ requested_model: g.group!, provider, provider_model: model, unpriced_calls: g.unknown_cost_requests });
      }
    }
    if (o.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(`every model called since ${o.since} has a price\n`);
      return;
    }
    process.stdout.write(renderTable(['REQUESTED', 'PROVIDER', 'UPSTREAM MODEL', 'UNPRICED CALLS'], rows.map((r) => [r.requested_model, r.provider, r.provider_model, String(r.unpriced_calls)])));
    process.stdout.write('add them under `pricing:` in llmops.yaml (USD per million tokens)\n');
  });

program
  .command('budgets')
  .description('budgets: spend, remaining and reset time, and recent soft-threshold alerts')
  .option('--budget <name>', 'only this budget')
  .option('--scope <scope>', 'global | key | user | team | feature')
  .option('--subject <id>', 'only this key, user, team or feature')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions & { budget?: string; scope?: string; subject?: string }) => {
    const q = new URLSearchParams();
    for (const k of ['budget', 'scope', 'subject'] as const) if (o[k]) q.set(k, o[k]);
    const res = (await api(o, 'GET', `/api/budgets${q.size ? `?${q}` : ''}`)) as BudgetReport;
    if (o.json) {
      process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
      return;
    }
    if (!res.enabled) {
      process.stdout.write('no budgets or limits configured (add `budgets:` to llmops.yaml)\n');
      return;
    }
    process.stdout.write(renderBudgets(res));
  });

// A client command whose reader went away (`llmops traces tail | head`) stops quietly, as
// Unix tools do; `serve` guards its streams instead and goes on serving.
program.hook('preAction', (_program, command) => {
  if (command.name() === 'serve') return;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
});

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`llmops: ${(err as Error).message}\n`);
  process.exit(1);
});
