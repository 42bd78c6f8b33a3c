#!/usr/bin/env node
/**
 * The `llmops` command line: `serve` runs the gateway; `keys` and `traces` talk to a
 * running gateway's admin API (`--url`, default LLMOPS_URL or http://127.0.0.1:8080) with
 * the admin key (LLMOPS_ADMIN_KEY, else `.llmops/admin-key`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from './config/load.js';
import { createGateway, resolveAdminKey } from './gateway.js';
import { parseSse } from './sse.js';
import type { TraceRecord } from './store/types.js';
import { renderTable } from './table.js';

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
  .action(async (opts: { config?: string; port?: number; host?: string }) => {
    const config = loadOrExit(opts.config);
    const admin = resolveAdminKey(config);
    const gw = createGateway({ config, adminKey: admin.key });
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
    process.stdout.write(
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
      process.stdout.write(`llmops: ${signal} received, draining\n`);
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

const keys = program.command('keys').description('manage virtual keys (admin API)');
keys
  .command('create')
  .description('create a virtual key; prints the secret once')
  .requiredOption('-n, --name <name>', 'a name for the key')
  .option('-m, --models <models>', 'comma-separated models the key may use (globs allowed: openai/*)')
  .option('--expires-in <duration>', 'expiry from now: 30m, 12h, 7d, 4w', parseDuration)
  .option('--metadata <json>', 'JSON object of metadata')
  .option('--url <url>', 'gateway URL')
  .option('--json', 'print JSON')
  .action(async (o: ClientOptions & { name: string; models?: string; expiresIn?: number; metadata?: string }) => {
    let metadata: unknown;
    if (o.metadata !== undefined) {
      try {
        metadata = JSON.parse(o.metadata);
      } catch {
        process.stderr.write('llmops: --metadata must be a JSON object\n');
        process.exit(2);
      }
    }
    const created = (await api(o, 'POST', '/admin/keys', {
      name: o.name,
      ...(o.models ? { models: o.models.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
      ...(o.expiresIn ? { expires_at: Date.now() + o.expiresIn } : {}),
      ...(metadata === undefined ? {} : { metadata }),
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
        ['ID', 'NAME', 'PREFIX', 'MODELS', 'STATUS', 'CREATED', 'EXPIRES', 'LAST USED'],
        data.map((k) => [
          String(k.id),
          String(k.name),
          `${String(k.key_prefix)}…`,
          Array.isArray(k.models) ? k.models.join(',') : 'all',
          k.revoked_at ? 'revoked' : typeof k.expires_at === 'number' && k.expires_at <= now ? 'expired' : 'active',
          iso(k.created_at as number),
          iso(k.expires_at as number | null),
          iso(k.last_used_at as number | null),
        ]),
      ),
    );
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
      if (ev.event !== 'trace') continue;
      const t = JSON.parse(ev.data) as TraceRecord;
      process.stdout.write(`${o.json ? ev.data : traceLine(t)}\n`);
    }
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`llmops: ${(err as Error).message}\n`);
  process.exit(1);
});
