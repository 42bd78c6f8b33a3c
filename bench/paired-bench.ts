/**
 * `npm run bench:paired`: compares two builds of the gateway (or one build with two sets of
 * node flags or store settings) on a machine whose speed drifts from minute to minute. Both
 * gateways run at once on the same CPU; each round loads one and then the other (the order
 * alternates), so drift hits both alike, and the figures are read from `/proc` without a
 * profiler: requests/s, CPU µs per request of the whole process and of its event-loop
 * thread, its trace writer thread and the rest (V8's GC helpers, libuv), latency, peak RSS.
 * The medians over the rounds are what to compare; a single round means little here.
 *
 * Usage: node dist/bench/paired-bench.js [--a DIR] [--b DIR] [--a-flags=FLAGS] [--b-flags=FLAGS]
 *   [--a-store JSON] [--b-store JSON] [--a-server JSON] [--b-server JSON] [--rounds N] [--seconds N] [--model bench|bench-delayed|bench-cached]
 *   [--connections N] [--json]
 * DIR is a checkout with `dist/` built (default: this one for both). `bench-delayed` is the
 * mock answering in 20 ms; `bench-cached` answers from the exact cache after the first call.
 * Node flags go after `=` (`--b-flags=--max-semi-space-size=8`): a value that starts with
 * `--` is otherwise read as an option of its own.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { renderTable } from '../src/table.js';
import { waitForLine } from './child-process.js';
import { CLK_TCK, hasTaskset, procStatusKb, procThreads } from './proc-stats.js';
import type { PhaseResult } from './protocol.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIST_BENCH = fileURLToPath(new URL('.', import.meta.url));

const { values: flags } = parseArgs({
  options: {
    a: { type: 'string', default: ROOT },
    b: { type: 'string', default: ROOT },
    'a-flags': { type: 'string', default: '' },
    'b-flags': { type: 'string', default: '' },
    'a-store': { type: 'string', default: '{}' },
    'b-store': { type: 'string', default: '{}' },
    /** Settings merged into each side's `server:` section (e.g. `{"heap_growth_percent":50}`). */
    'a-server': { type: 'string', default: '{}' },
    'b-server': { type: 'string', default: '{}' },
    rounds: { type: 'string', default: '8' },
    seconds: { type: 'string', default: '3' },
    model: { type: 'string', default: 'bench' },
    connections: { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

const ROUNDS = Math.max(1, Number(flags.rounds));
const SECONDS = Math.max(0.5, Number(flags.seconds));

const children: ChildProcess[] = [];
const cleanup = (): void => {
  for (const c of children) c.kill('SIGKILL');
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));

function startOn(cpu: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [cmd, argv] = hasTaskset ? ['taskset', ['-c', cpu, process.execPath, ...args]] : [process.execPath, args];
  const cp = spawn(cmd, argv, { env, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(cp);
  return cp;
}


interface Side {
  label: string;
  dir: string;
  url: string;
  key: string;
  pid: number;
  tmp: string;
  writerTid: number | undefined;
  rounds: RoundResult[];
}

interface RoundResult {
  rps: number;
  cpuUs: number;
  mainUs: number;
  writerUs: number;
  otherUs: number;
  p50: number;
  p99: number;
}

/** The trace writer thread: the one thread that runs at nice 10 while it keeps up (see trace-writer-thread.ts). */
function writerThread(pid: number): number | undefined {
  for (const [tid, t] of procThreads(pid)) if (t.nice > 0) return tid;
  return undefined;
}

function peakRssMb(pid: number): number {
  const kb = procStatusKb(pid, 'VmHWM');
  return kb === undefined ? Number.NaN : Math.round(kb / 102.4) / 10;
}

async function startGateway(label: string, dir: string, nodeFlags: string, store: string, server: string, mockOrigin: string): Promise<Side> {
  const tmp = mkdtempSync(join(tmpdir(), 'llmops-paired-'));
  const config = {
    server: { host: '127.0.0.1', port: 0, log_level: 'warn', ...(JSON.parse(server) as object) },
    store: { url: `sqlite:${join(tmp, 'llmops.db')}`, ...(JSON.parse(store) as object) },
    providers_from_env: false,
    providers: {
      mock: { type: 'openai', api_key: 'sk-mock-upstream', base_url: `${mockOrigin}/v1` },
      mock_delayed: { type: 'openai', api_key: 'sk-mock-upstream', base_url: `${mockOrigin}/delay/20/v1` },
    },
    models: {
      bench: { targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
      'bench-delayed': { targets: [{ provider: 'mock_delayed', model: 'gpt-4o-mini' }] },
      'bench-cached': { targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
    },
    cache: { models: { bench: { enabled: false }, 'bench-delayed': { enabled: false } } },
  };
  writeFileSync(join(tmp, 'llmops.yaml'), JSON.stringify(config));
  const admin = `sk-llmops-admin-paired-${label}-0123456789`;
  const gw = startOn('0', [...nodeFlags.split(' ').filter(Boolean), join(dir, 'dist', 'src', 'cli.js'), 'serve', '--config', join(tmp, 'llmops.yaml')], {
    ...process.env,
    LLMOPS_ADMIN_KEY: admin,
    NODE_ENV: 'production',
  });
  const url = await waitForLine(gw, `gateway ${label}`, (l) => /listening on (http:\/\/\S+)/.exec(l)?.[1], 20_000, () => '(its stderr is above)');
  const res = await fetch(`${url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'paired' }),
  });
  if (res.status !== 201) throw new Error(`gateway ${label}: creating a key failed with ${res.status}`);
  const key = ((await res.json()) as { key: string }).key;
  return { label, dir, url, key, pid: gw.pid!, tmp, writerTid: undefined, rounds: [] };
}

const run = promisify(execFile);

async function loadRound(side: Side): Promise<RoundResult> {
  const before = procThreads(side.pid);
  const args = [
    join(DIST_BENCH, 'load-generator.js'),
    '--url', `${side.url}/v1/chat/completions`,
    '--connections', flags.connections,
    '--duration-s', String(SECONDS),
    '--warmup-s', '0.5',
    '--header', `authorization: Bearer ${side.key}`,
    '--body', JSON.stringify({ model: flags.model, messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 16 }),
  ];
  const { stdout } = await run(hasTaskset ? 'taskset' : process.execPath, hasTaskset ? ['-c', '1', process.execPath, ...args] : args, { maxBuffer: 1 << 20 });
  const after = procThreads(side.pid);
  const r = JSON.parse(stdout) as PhaseResult;
  if (r.errorCount > 0) throw new Error(`gateway ${side.label}: ${r.errorCount} errors (${JSON.stringify(r.errors)})`);
  let main = 0;
  let writer = 0;
  let other = 0;
  for (const [tid, t] of after) {
    const d = t.ticks - (before.get(tid)?.ticks ?? 0);
    if (tid === side.pid) main += d;
    else if (tid === side.writerTid) writer += d;
    else other += d;
  }
  const per = (ticks: number): number => Math.round(((ticks * (1e6 / CLK_TCK)) / r.completed) * 10) / 10;
  return { rps: Math.round(r.rps), cpuUs: per(main + writer + other), mainUs: per(main), writerUs: per(writer), otherUs: per(other), p50: r.latencyMs.p50, p99: r.latencyMs.p99 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : Math.round(((s[m - 1]! + s[m]!) / 2) * 1000) / 1000;
}

async function main(): Promise<void> {
  const mock = startOn('1', [join(DIST_BENCH, 'mock-upstream.js')]);
  const mockPort = await waitForLine(mock, 'mock upstream', (l) => /"port":(\d+)/.exec(l)?.[1], 10_000, () => '(its stderr is above)');
  const mockOrigin = `http://127.0.0.1:${mockPort}`;
  const sides = [
    await startGateway('A', resolve(flags.a), flags['a-flags'], flags['a-store'], flags['a-server'], mockOrigin),
    await startGateway('B', resolve(flags.b), flags['b-flags'], flags['b-store'], flags['b-server'], mockOrigin),
  ];
  await new Promise((r) => setTimeout(r, 300));
  for (const s of sides) s.writerTid = writerThread(s.pid);
  const say = (line: string): void => {
    if (!flags.json) process.stdout.write(`${line}\n`);
  };
  say(`A: ${sides[0]!.dir} ${flags['a-flags']} ${flags['a-store']} ${flags['a-server']}`);
  say(`B: ${sides[1]!.dir} ${flags['b-flags']} ${flags['b-store']} ${flags['b-server']}`);
  say(`${ROUNDS} rounds of ${SECONDS} s each per gateway, model ${flags.model}, ${flags.connections} connections${hasTaskset ? '; gateways on CPU 0, mock and load generator on CPU 1' : ' (taskset not found: not pinned)'}`);
  for (let round = 0; round < ROUNDS; round++) {
    for (const s of round % 2 ? [...sides].reverse() : sides) {
      const r = await loadRound(s);
      s.rounds.push(r);
      say(`round ${round + 1} ${s.label}: ${r.rps} req/s, ${r.cpuUs} µs/req (main ${r.mainUs}, writer ${r.writerUs}, other ${r.otherUs}), p50 ${r.p50} ms, p99 ${r.p99} ms`);
    }
  }
  const summary = sides.map((s) => ({
    side: s.label,
    dir: s.dir,
    rps: Math.round(median(s.rounds.map((r) => r.rps))),
    cpuUs: median(s.rounds.map((r) => r.cpuUs)),
    mainUs: median(s.rounds.map((r) => r.mainUs)),
    writerUs: median(s.rounds.map((r) => r.writerUs)),
    otherUs: median(s.rounds.map((r) => r.otherUs)),
    p50: median(s.rounds.map((r) => r.p50)),
    p99: median(s.rounds.map((r) => r.p99)),
    peakRssMb: peakRssMb(s.pid),
    rounds: s.rounds,
  }));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    say('\nmedians over the rounds:');
    say(
      renderTable(
        ['side', 'req/s', 'CPU µs/req', 'main', 'writer', 'other', 'p50 ms', 'p99 ms', 'peak RSS MB'],
        summary.map((x) => [x.side, String(x.rps), String(x.cpuUs), String(x.mainUs), String(x.writerUs), String(x.otherUs), String(x.p50), String(x.p99), String(x.peakRssMb)]),
      ),
    );
  }
  for (const s of sides) rmSync(s.tmp, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`paired-bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
