/**
 * `npm run bench:limits`: what rate limits + budgets add to a request, with the in-memory
 * and the Redis backends. Times the limits stage's work on the request path — `admit`:
 * rules, token count, worst-case price, one atomic check-and-reserve — and the settlement
 * that follows the answer (off the request path, timed for completeness), with a typical
 * setup: key RPM+TPM, user RPM, a global monthly and a per-team daily budget. Prints
 * p50/p99 at concurrency 1, and throughput at concurrency 32. The target: admit p50 at most
 * 0.3 ms with Redis (`--strict` exits 2 when missed).
 *
 * Flags: --requests N (per phase, default 5000), --redis URL (default LLMOPS_BENCH_REDIS_URL,
 * LLMOPS_TEST_REDIS_URL or redis://127.0.0.1:6379; `--redis off` skips it), --strict.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Cancellation } from '../src/cancellation.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/logger.js';
import { LimitsService } from '../src/limits/limits-service.js';
import { MemoryLimitsState } from '../src/limits/memory/memory-state.js';
import { RedisLimitsState } from '../src/limits/redis/redis-state.js';
import type { LimitsState } from '../src/limits/state.js';
import type { RequestContext } from '../src/pipeline/context.js';
import { openAIChat } from '../src/inbound/openai-chat.js';
import { loadBuiltinPrices, PriceTable } from '../src/pricing/price-table.js';
import { createProviders } from '../src/providers/registry.js';
import { ModelRouter } from '../src/routing/router.js';
import { openRedis } from '../src/state/redis.js';
import { renderTable } from '../src/table.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '5000' },
    redis: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
});
const N = Number(values.requests);
const redisUrl = values.redis ?? process.env.LLMOPS_BENCH_REDIS_URL ?? process.env.LLMOPS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const config = loadConfig({
  env: {},
  document: {
    providers_from_env: false,
    providers: { demo: { type: 'demo' } },
    models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } },
    limits: { per_key: { rpm: 1_000_000_000, tpm: 2_000_000_000 }, per_user: { rpm: 1_000_000_000 } },
    budgets: {
      rules: [
        { name: 'org-monthly', scope: 'global', limit_usd: 1e9, window: 'month' },
        { name: 'team-daily', scope: 'team', limit_usd: 1e9, window: 'day' },
      ],
    },
  },
});
const router = new ModelRouter(config, createProviders(config.providers));
const prices = new PriceTable(loadBuiltinPrices(), config.pricing);
const log = createLogger('error');

const body = {
  model: 'demo',
  messages: [
    { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
    { role: 'user', content: 'What is the capital of France, and what is it famous for?' },
  ],
  max_tokens: 256,
};
const parsed = openAIChat.parse(body);
if (parsed.kind !== 'chat') throw new Error('expected a chat request');

function context(i: number): RequestContext {
  return {
    callId: `c${i}`,
    traceId: `t${i}`,
    parentId: null,
    startedAt: Date.now(),
    t0: performance.now(),
    inbound: openAIChat,
    http: {
      headers: {},
      body,
      rawBody: undefined,
      cancel: new Cancellation(),
      headersSent: false,
      sendJson: () => undefined,
      startStream: () => undefined,
      write: async () => undefined,
      end: () => undefined,
    },
    principal: { kind: 'key', keyId: `key_${i % 10}`, name: `bench-${i % 10}`, allows: () => true, canRead: false, metadata: { team: `team-${i % 3}` } },
    tags: { user: `user-${i % 100}`, feature: null, session: null, metadata: null },
    request: { kind: 'chat', body: parsed.kind === 'chat' ? parsed.request : (undefined as never) },
    stream: false,
    requestedModel: 'demo',
    attempts: [],
    usage: { inputTokens: 30, outputTokens: 40, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: false },
    costUsd: 0.0000285,
    cost: null,
    costSource: 'price_table',
    finishReason: 'stop',
    ttftMs: null,
    httpStatus: 200,
  };
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Row {
  backend: string;
  admitP50: number;
  admitP99: number;
  settleP50: number;
  rps32: number;
}

async function measure(name: string, state: LimitsState): Promise<Row> {
  const service = new LimitsService({ limits: config.limits, budgets: config.budgets, state, prices, router, log });
  // Warm-up: JIT, tokenizer tables, Redis script cache.
  for (let i = 0; i < 500; i++) {
    const ctx = context(i);
    const t = await service.admit(ctx);
    if (t) await service.settle(t, ctx);
  }
  const admit = new Float64Array(N);
  const settle = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const ctx = context(i);
    const a0 = performance.now();
    const ticket = await service.admit(ctx);
    const a1 = performance.now();
    if (!ticket) throw new Error('no ticket: limits did not apply');
    await service.settle(ticket, ctx);
    admit[i] = a1 - a0;
    settle[i] = performance.now() - a1;
  }
  admit.sort();
  settle.sort();
  // Throughput at concurrency 32: admit + settle per request.
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < N) {
        const ctx = context(next++);
        const ticket = await service.admit(ctx);
        if (ticket) await service.settle(ticket, ctx);
      }
    }),
  );
  const rps32 = N / ((performance.now() - t0) / 1000);
  await service.close();
  return { backend: name, admitP50: quantile(admit, 0.5), admitP99: quantile(admit, 0.99), settleP50: quantile(settle, 0.5), rps32 };
}

const rows: Row[] = [await measure('memory', new MemoryLimitsState())];
if (values.redis !== 'off') {
  const handle = openRedis({ url: redisUrl, key_prefix: `llmops-bench-${randomBytes(4).toString('hex')}` });
  try {
    await handle.client.ping();
    rows.push(await measure('redis', new RedisLimitsState(handle)));
  } finally {
    const keys = await handle.client.keys(handle.key('*'));
    if (keys.length) await handle.client.del(...keys);
    await handle.close();
  }
}

const ms = (n: number): string => n.toFixed(3);
process.stdout.write(
  renderTable(
    ['BACKEND', 'ADMIT P50 MS', 'ADMIT P99 MS', 'SETTLE P50 MS', 'ADMIT+SETTLE REQ/S @32'],
    rows.map((r) => [r.backend, ms(r.admitP50), ms(r.admitP99), ms(r.settleP50), Math.round(r.rps32).toString()]),
  ),
);
process.stdout.write(`${N} requests per phase; 2 rate limits (key RPM+TPM, user RPM) and 2 budgets (global month, team day) per request\n`);
const redisRow = rows.find((r) => r.backend === 'redis');
if (redisRow && redisRow.admitP50 > 0.3) {
  process.stdout.write(`target missed: admit p50 with Redis is ${ms(redisRow.admitP50)} ms (target 0.3 ms)\n`);
  if (values.strict) process.exit(2);
}
