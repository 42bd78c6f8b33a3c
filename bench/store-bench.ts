/**
 * `npm run bench:store`: the store benchmark. Generates realistic traces (see
 * `store-dataset.ts`; 1,000,000 by default, 100,000 with --quick) and, for SQLite and for
 * PostgreSQL, writes them through the real trace writer (`TraceSink`, default batch size)
 * to measure ingest, then times the three dashboard queries on the full store: metrics for
 * 24 h per hour by model, costs for 30 days by feature, and a filtered search page (plus a
 * few more searches). Each query runs once cold and then several times; the table shows
 * the median and the worst. Figures also go to `bench/results/store-latest.json`.
 *
 * Flags: --quick, --traces N, --only sqlite|postgres, --reuse (keep the stores of the last
 * run with the same size and only time the queries), --runs N (query repetitions, default 7),
 * --pg-url URL (a server where the bench may create and drop the database `llmops_bench`;
 * default LLMOPS_BENCH_POSTGRES_URL, LLMOPS_TEST_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/postgres),
 * --dir DIR (where the SQLite file lives, default the system temp dir), --out FILE, --strict
 * (exit 2 when a target is missed).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createLogger } from '../src/logger.js';
import { PostgresStore } from '../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { Store, TraceFilter } from '../src/store/types.js';
import { renderTable } from '../src/table.js';
import { TraceSink } from '../src/traces/trace-sink.js';
import { WRITER_SQLITE_CACHE_MB } from '../src/traces/trace-writer-thread.js';
import { type DatasetSpec, feedbackFor, generateTraces } from './store-dataset.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DAY = 86_400_000;
const HOUR = 3_600_000;

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    traces: { type: 'string' },
    only: { type: 'string' },
    reuse: { type: 'boolean', default: false },
    runs: { type: 'string', default: '7' },
    'pg-url': { type: 'string' },
    dir: { type: 'string' },
    out: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
  strict: true,
});

const TRACES = Number(flags.traces ?? (flags.quick ? 100_000 : 1_000_000));
const RUNS = Math.max(1, Number(flags.runs));
if (!Number.isSafeInteger(TRACES) || TRACES < 1000) throw new Error('--traces expects a whole number ≥ 1000');
const only = flags.only;
if (only !== undefined && only !== 'sqlite' && only !== 'postgres') throw new Error('--only expects sqlite or postgres');
const PG_ADMIN_URL = flags['pg-url'] ?? process.env.LLMOPS_BENCH_POSTGRES_URL ?? process.env.LLMOPS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATA_DIR = resolve(flags.dir ?? join(tmpdir(), 'llmops-store-bench'));
const OUT = resolve(flags.out ?? join(ROOT, 'bench', 'results', 'store-latest.json'));
const BATCH = 1000; // traces per insert transaction (the gateway's store.trace_batch_size defaults to 200)
const TARGETS = { sqliteIngestPerS: 20_000, postgresIngestPerS: 10_000, queryMs: 500 } as const;

const log = createLogger('warn');
const say = (msg: string): void => void process.stderr.write(`${msg}\n`);

interface IngestResult {
  /** Share of the machine's CPU time in use during the ingest (all processes: the bench, PostgreSQL, anything else). */
  machineBusyPct: number | null;
  traces: number;
  seconds: number;
  tracesPerS: number;
  dropped: number;
  writeFailures: number;
  peakQueue: number;
  feedback: number;
}

interface QueryResult {
  name: string;
  rows: number;
  coldMs: number;
  medianMs: number;
  maxMs: number;
}

interface BackendResult {
  backend: 'sqlite' | 'postgres';
  stored: number;
  sizeMb: number | null;
  ingest: IngestResult | null;
  queries: QueryResult[];
}

// ---------------------------------------------------------------------------------------
// Ingest through the real writer

/** Busy and total CPU ticks of the machine (Linux /proc/stat), to report how loaded it was. */
function cpuTicks(): { busy: number; total: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

async function ingest(store: Store, spec: DatasetSpec): Promise<IngestResult> {
  const sink = new TraceSink(store, { maxQueue: 200_000, batchSize: BATCH, flushMs: 100, log });
  const feedback: Array<Parameters<Store['insertFeedback']>[0]> = [];
  let peakQueue = 0;
  const ticks0 = cpuTicks();
  const t0 = performance.now();
  let i = 0;
  let lastReport = t0;
  for (const t of generateTraces(spec)) {
    sink.push(t);
    const f = feedbackFor(t, i);
    if (f) feedback.push(f);
    i++;
    if (i % 2000 === 0) {
      peakQueue = Math.max(peakQueue, sink.stats.queued);
      // Let the writer run; keep the queue bounded like a gateway under steady load would,
      // sleeping (not spinning: PostgreSQL needs the CPU) while it is full.
      await new Promise((r) => setImmediate(r));
      while (sink.stats.queued > 20_000) await new Promise((r) => setTimeout(r, 2));
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        say(`  ${store.kind}: ${i.toLocaleString('en')} traces pushed, ${sink.stats.written.toLocaleString('en')} written (${Math.round(sink.stats.written / ((now - t0) / 1000)).toLocaleString('en')}/s)`);
      }
    }
  }
  const lost = await sink.drain(120_000);
  const seconds = (performance.now() - t0) / 1000;
  const ticks1 = cpuTicks();
  const machineBusyPct = ticks0 && ticks1 ? Math.round((100 * (ticks1.busy - ticks0.busy)) / Math.max(1, ticks1.total - ticks0.total)) : null;
  // Feedback is not part of the ingest figure: a few parallel writers, like the API would be.
  for (let k = 0; k < feedback.length; k += 8) await Promise.all(feedback.slice(k, k + 8).map((f) => store.insertFeedback(f)));
  return {
    machineBusyPct,
    traces: spec.traces,
    seconds: Math.round(seconds * 10) / 10,
    tracesPerS: Math.round(spec.traces / seconds),
    dropped: sink.stats.dropped + lost,
    writeFailures: sink.stats.writeFailures,
    peakQueue,
    feedback: feedback.length,
  };
}

// ---------------------------------------------------------------------------------------
// Queries

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

function rowsOf(v: unknown): number {
  if (Array.isArray(v)) return v.length;
  if (v && typeof v === 'object' && 'data' in v && Array.isArray(v.data)) return v.data.length;
  return 0;
}

async function runQueries(store: Store, anchor: number): Promise<QueryResult[]> {
  const searches: Array<[string, TraceFilter]> = [
    ['search: feature + errors, 7 d', { feature: 'agent', status: 'error', from: anchor - 7 * DAY, to: anchor }],
    ['search: user, 30 d', { user: 'user-42', from: anchor - 30 * DAY, to: anchor }],
    ['search: model + metadata, 24 h', { model: 'gpt-4o', metadata: { tenant: 'tenant-7' }, from: anchor - DAY, to: anchor }],
    ['search: latency ≥ 2 s, text', { minLatencyMs: 2000, text: 'sess-9', from: anchor - 30 * DAY, to: anchor }],
  ];
  const queries: Array<[string, () => Promise<unknown>]> = [
    ['metrics: 24 h, hourly, by model', () => store.metrics({ from: anchor - DAY, to: anchor, bucket: 'hour', groupBy: 'model' })],
    ['costs: 30 d by feature', () => store.costs({ from: anchor - 30 * DAY, to: anchor, groupBy: 'feature' })],
    ...searches.map(([name, f]): [string, () => Promise<unknown>] => [name, () => store.searchTraces(f, 50)]),
    [
      'search: page 3 (cursor), feature + errors',
      async () => {
        let page = await store.searchTraces(searches[0]![1], 20);
        page = await store.searchTraces(searches[0]![1], 20, page.next_cursor);
        return store.searchTraces(searches[0]![1], 20, page.next_cursor);
      },
    ],
    ['metrics: 7 d, daily, by feature', () => store.metrics({ from: anchor - 7 * DAY, to: anchor, bucket: 'day', groupBy: 'feature' })],
    ['metrics: last hour, per minute', () => store.metrics({ from: anchor - HOUR, to: anchor, bucket: 'minute' })],
  ];
  const out: QueryResult[] = [];
  for (const [name, fn] of queries) {
    const cold = await time(fn);
    const times: number[] = [];
    for (let k = 0; k < RUNS; k++) times.push((await time(fn)).ms);
    times.sort((a, b) => a - b);
    out.push({
      name,
      rows: rowsOf(cold.value),
      coldMs: Math.round(cold.ms * 10) / 10,
      medianMs: Math.round(times[Math.floor(times.length / 2)]! * 10) / 10,
      maxMs: Math.round(times[times.length - 1]! * 10) / 10,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Backends

interface Meta {
  traces: number;
  anchor: number;
  seed: number;
}

function readMeta(path: string): Meta | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

async function benchSqlite(spec: DatasetSpec): Promise<BackendResult> {
  mkdirSync(DATA_DIR, { recursive: true });
  const file = join(DATA_DIR, `sqlite-${spec.traces}.db`);
  const metaFile = `${file}.json`;
  const meta = readMeta(metaFile);
  const reuse = flags.reuse && meta?.traces === spec.traces && existsSync(file);
  let ingestResult: IngestResult | null = null;
  let anchor = spec.anchor;
  if (reuse) {
    anchor = meta.anchor;
    say(`sqlite: reusing ${file}`);
  } else {
    for (const f of [file, `${file}-wal`, `${file}-shm`, metaFile]) rmSync(f, { force: true });
    say(`sqlite: writing ${spec.traces.toLocaleString('en')} traces through the trace writer into ${file}`);
    // The writer thread's page cache, as in the gateway.
    const store = new SqliteStore(file, { cacheMb: WRITER_SQLITE_CACHE_MB });
    ingestResult = await ingest(store, spec);
    await store.close();
    writeFileSync(metaFile, JSON.stringify({ traces: spec.traces, anchor: spec.anchor, seed: spec.seed } satisfies Meta));
  }
  // A fresh connection, as after a restart: nothing of the ingest left in its page cache.
  const store = new SqliteStore(file);
  const stored = await store.countTraces();
  say('sqlite: timing queries');
  const queries = await runQueries(store, anchor);
  await store.close();
  return { backend: 'sqlite', stored, sizeMb: Math.round(statSync(file).size / 1e6), ingest: ingestResult, queries };
}

async function benchPostgres(spec: DatasetSpec): Promise<BackendResult> {
  const database = `llmops_bench_${spec.traces}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  const dbUrl = (() => {
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${database}`;
    return u.toString();
  })();
  let anchor = spec.anchor;
  let ingestResult: IngestResult | null = null;
  try {
    const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount === 1;
    let meta: Meta | undefined;
    if (exists && flags.reuse) {
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      try {
        const r = await c.query<{ meta: string }>("SELECT obj_description('traces'::regclass) AS meta");
        meta = r.rows[0]?.meta ? (JSON.parse(r.rows[0].meta) as Meta) : undefined;
      } catch {
        meta = undefined;
      } finally {
        await c.end();
      }
    }
    if (meta?.traces === spec.traces) {
      anchor = meta.anchor;
      say(`postgres: reusing database ${database}`);
    } else {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${database}`);
      say(`postgres: writing ${spec.traces.toLocaleString('en')} traces through the trace writer into ${database}`);
      const store = new PostgresStore({ url: dbUrl, log });
      await store.migrate();
      ingestResult = await ingest(store, spec);
      await store.close();
      const c = new pg.Client({ connectionString: dbUrl });
      await c.connect();
      try {
        // What autovacuum does on its own some time after a bulk of inserts.
        say('postgres: VACUUM ANALYZE');
        await c.query('VACUUM (ANALYZE) traces');
        await c.query('VACUUM (ANALYZE) trace_rollups');
        await c.query('VACUUM (ANALYZE) feedback');
        await c.query(`COMMENT ON TABLE traces IS '${JSON.stringify({ traces: spec.traces, anchor: spec.anchor, seed: spec.seed } satisfies Meta)}'`);
      } finally {
        await c.end();
      }
    }
  } finally {
    await admin.end();
  }
  const store = new PostgresStore({ url: dbUrl, log });
  const stored = await store.countTraces();
  say('postgres: timing queries');
  const queries = await runQueries(store, anchor);
  await store.close();
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const size = Number((await c.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]?.n ?? 0);
  await c.end();
  return { backend: 'postgres', stored, sizeMb: Math.round(size / 1e6), ingest: ingestResult, queries };
}

// ---------------------------------------------------------------------------------------
// Main

async function main(): Promise<void> {
  const spec: DatasetSpec = { traces: TRACES, anchor: Math.floor(Date.now() / 60_000) * 60_000, seed: 42, lastDayShare: 0.15 };
  const started = Date.now();
  const results: BackendResult[] = [];
  if (only !== 'postgres') results.push(await benchSqlite(spec));
  if (only !== 'sqlite') results.push(await benchPostgres(spec));

  const misses: string[] = [];
  for (const r of results) {
    const target = r.backend === 'sqlite' ? TARGETS.sqliteIngestPerS : TARGETS.postgresIngestPerS;
    if (r.ingest && r.ingest.tracesPerS < target) misses.push(`${r.backend} ingest ${r.ingest.tracesPerS}/s < ${target}/s`);
    if (r.ingest && r.ingest.dropped > 0) misses.push(`${r.backend} dropped ${r.ingest.dropped} traces`);
    if (r.stored !== TRACES) misses.push(`${r.backend} stored ${r.stored} of ${TRACES}`);
    for (const q of r.queries.slice(0, 3)) if (q.maxMs >= TARGETS.queryMs) misses.push(`${r.backend} ${q.name}: ${q.maxMs} ms ≥ ${TARGETS.queryMs} ms`);
  }

  const report = {
    version: 1,
    at: new Date().toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model ?? 'unknown', node: process.version, memGiB: Math.round(totalmem() / 2 ** 30) },
    options: { traces: TRACES, quick: flags.quick, reuse: flags.reuse, runs: RUNS, batchSize: BATCH, only: only ?? 'both' },
    targets: TARGETS,
    seconds: Math.round((Date.now() - started) / 1000),
    results,
    misses,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);

  const n = (x: number): string => x.toLocaleString('en');
  process.stdout.write(`\nstore benchmark: ${n(TRACES)} traces, ${report.machine.cpus} CPUs, ${report.seconds} s\n\n`);
  process.stdout.write(
    renderTable(
      ['store', 'ingest (traces/s)', 'seconds', 'machine CPU busy', 'dropped', 'write failures', 'stored', 'size (MB)'],
      results.map((r) => [
        r.backend,
        r.ingest ? n(r.ingest.tracesPerS) : '(reused)',
        r.ingest ? String(r.ingest.seconds) : '-',
        r.ingest?.machineBusyPct == null ? '-' : `${r.ingest.machineBusyPct}%`,
        r.ingest ? n(r.ingest.dropped) : '-',
        r.ingest ? n(r.ingest.writeFailures) : '-',
        n(r.stored),
        r.sizeMb === null ? '-' : n(r.sizeMb),
      ]),
    ),
  );
  process.stdout.write('\n');
  const names = results[0]?.queries.map((q) => q.name) ?? [];
  process.stdout.write(
    renderTable(
      ['query (ms: cold / median / max)', 'rows', ...results.map((r) => r.backend)],
      names.map((name, i) => [
        name,
        String(results[0]?.queries[i]?.rows ?? ''),
        ...results.map((r) => {
          const q = r.queries[i];
          return q ? `${q.coldMs} / ${q.medianMs} / ${q.maxMs}` : '-';
        }),
      ]),
    ),
  );
  process.stdout.write(`\ntargets: ingest ≥ ${n(TARGETS.sqliteIngestPerS)}/s SQLite, ≥ ${n(TARGETS.postgresIngestPerS)}/s PostgreSQL; first three queries < ${TARGETS.queryMs} ms\n`);
  process.stdout.write(misses.length ? `missed:\n${misses.map((m) => `  - ${m}`).join('\n')}\n` : 'all targets met\n');
  process.stdout.write(`results: ${OUT}\n`);
  if (flags.strict && misses.length) process.exitCode = 2;
}

main().catch((err: unknown) => {
  process.stderr.write(`store bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
