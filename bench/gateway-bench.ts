/**
 * `npm run bench`: the gateway benchmark. Starts the mock upstream, the gateway (the real
 * CLI, key auth and SQLite trace writing on, a stored virtual key created through the
 * admin API), a floor proxy (`floor-proxy.ts`: the least any Node.js proxy does, on the
 * gateway's CPU) and the load generator, each in its own process (pinned with `taskset` when
 * available: gateway and floor proxy on CPU 0, mock + load generator on CPU 1). Every phase
 * runs against the mock directly, through the floor proxy and through the gateway, and the
 * table shows them side by side with the differences: throughput at saturation, latency at
 * concurrency 1 and 32, the gateway's peak RSS and each process's CPU. Afterwards the gateway is stopped (draining its trace
 * queue) and the traces in its SQLite file are counted against the requests it answered.
 * Figures also go to `bench/results/gateway-latest.json`.
 *
 * Flags: --quick, --saturation-s N, --latency1-s N, --latency32-s N, --warmup-s N,
 * --concurrency N (saturation, default 64), --upstream-delay-ms N (the concurrency-32
 * phase with a realistic upstream, default 20; 0 skips it), --stream (add a streaming
 * saturation phase), --upstream-jitter-ms MIN-MAX (the concurrency-32 phase the added-latency
 * target is judged on: each request asks the mock for its own delay from the range, default
 * 10-30, and its latency minus the time the mock held it is measured; 0 skips it), --pin strict|shared|off (default strict: the gateway alone on CPU 0, the
 * mock upstream and the load generator on the last CPU; shared: the harness on the last CPU and
 * the gateway free to use every CPU; --no-pin = off), --cpu-prof (profile the gateway; .cpuprofile files
 * under bench/results/profiles), --node-flags '...' (extra node flags for the gateway),
 * --out FILE, --keep-tmp, --strict (exit 2 when a target fails), --limits memory|redis (rate
 * limits and budgets checked on every request; compare with a run without it), --capture
 * full|metadata (trace payloads or not; default full), --guards default (the default input
 * guards on every request), --no-floor (skip the floor proxy's runs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { SERVE_NODE_FLAGS } from '../src/node-flags.js';
import { renderTable } from '../src/table.js';
import { waitForLine } from './child-process.js';
import { CLK_TCK, hasTaskset, procCpuTicks, procStatusKb } from './proc-stats.js';
import { parseDelayRange, type LatencySummary, type LoadgenRequest, type LoadgenResponse, type PhaseResult, type PhaseSpec } from './protocol.js';

// ---------------------------------------------------------------------------------------
// Options

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIST_BENCH = dirname(fileURLToPath(import.meta.url));

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'warmup-s': { type: 'string' },
    'saturation-s': { type: 'string' },
    'latency1-s': { type: 'string' },
    'latency32-s': { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'upstream-delay-ms': { type: 'string', default: '20' },
    'upstream-jitter-ms': { type: 'string', default: '10-30' },
    stream: { type: 'boolean', default: false },
    pin: { type: 'string' },
    'no-pin': { type: 'boolean' },
    'no-floor': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    out: { type: 'string' },
    'keep-tmp': { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    'max-wait-quiet-s': { type: 'string', default: '120' },
    /** Rate limits + budgets on every request: `memory` or `redis` (LLMOPS_BENCH_REDIS_URL, default redis://127.0.0.1:6379). */
    limits: { type: 'string' },
    /** The trace capture policy for the run: full (the default, as in production) or metadata. */
    capture: { type: 'string', default: 'full' },
    /** `default`: the default input guards (injection, PII masking, secrets, max tokens) on every request. */
    guards: { type: 'string' },
  },
  strict: true,
});

if (flags.capture !== 'full' && flags.capture !== 'metadata') {
  process.stderr.write('bench: --capture expects full or metadata\n');
  process.exit(2);
}
if (flags.guards !== undefined && flags.guards !== 'default' && flags.guards !== 'off') {
  process.stderr.write('bench: --guards expects default or off\n');
  process.exit(2);
}

/** `--guards default`: the input guards the example config's `standard` policy runs, on every request. */
function guardsBenchConfig(mode: string | undefined): Record<string, unknown> {
  if (mode !== 'default') return {};
  return {
    guardrails: {
      default: 'standard',
      policies: {
        standard: {
          input: [
            { type: 'injection', action: 'block' },
            { type: 'pii', action: 'mask' },
            { type: 'secrets', action: 'block' },
            { type: 'max_tokens', max: 8000 },
          ],
        },
      },
    },
  };
}

/**
 * `--limits memory|redis`: the bench key's RPM and TPM and a global monthly budget are
 * checked (and the budget reserved and settled) on every request, never reached, so the run
 * shows what the checks cost. (Its Redis counters expire by themselves.)
 */
function limitsBenchConfig(mode: string | undefined): Record<string, unknown> {
  if (mode === undefined || mode === 'off') return {};
  if (mode !== 'memory' && mode !== 'redis') {
    process.stderr.write('bench: --limits expects memory, redis or off\n');
    process.exit(2);
  }
  return {
    ...(mode === 'redis'
      ? { redis: { url: process.env.LLMOPS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379', key_prefix: `llmops-bench-${randomBytes(4).toString('hex')}` } }
      : {}),
    limits: { per_key: { rpm: 1_000_000_000, tpm: 2_000_000_000 } },
    budgets: { rules: [{ name: 'org-monthly', scope: 'global', limit_usd: 1e9, window: 'month' }] },
  };
}

/** `--upstream-jitter-ms MIN-MAX` (ms); 0 or off skips the phase. */
function jitterRange(text: string | undefined): { min: number; max: number } | null {
  if (text === undefined || text === '0' || text === 'off') return null;
  const range = parseDelayRange(text);
  if (range) return range;
  process.stderr.write(`bench: --upstream-jitter-ms expects MIN-MAX in ms with MIN <= MAX, or 0 (got '${text}')\n`);
  process.exit(2);
}

function num(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`bench: --${name} expects a non-negative number\n`);
    process.exit(2);
  }
  return n;
}

const quick = flags.quick === true;
const opts = {
  quick,
  /** First contact with each target (JIT warm-up), not reported. */
  warmupS: num(flags['warmup-s'], quick ? 1 : 3, 'warmup-s'),
  /** Discarded lead-in of every phase. */
  phaseWarmupS: quick ? 0.5 : 1,
  saturationS: num(flags['saturation-s'], quick ? 3 : 10, 'saturation-s'),
  latency1S: num(flags['latency1-s'], quick ? 2 : 5, 'latency1-s'),
  latency32S: num(flags['latency32-s'], quick ? 3 : 10, 'latency32-s'),
  saturationConnections: Math.max(1, Math.round(num(flags.concurrency, 64, 'concurrency'))),
  upstreamDelayMs: Math.round(num(flags['upstream-delay-ms'], 20, 'upstream-delay-ms')),
  /** The per-request upstream delays of the concurrency-32 target phase (null: the phase is skipped). */
  upstreamJitterMs: jitterRange(flags['upstream-jitter-ms']),
  stream: flags.stream === true,
  /** Also run every phase through the floor proxy (the least any Node proxy costs on this machine). */
  floor: flags['no-floor'] !== true,
  cpuProf: flags['cpu-prof'] === true,
  capture: flags.capture,
  guards: flags.guards ?? 'off',
  limits: flags.limits ?? 'off',
  /** Extra node flags for the gateway process (experiments: --max-semi-space-size=..., --trace-gc). */
  nodeFlags: (flags['node-flags'] ?? '').split(/\s+/).filter(Boolean),
  out: resolve(flags.out ?? join(ROOT, 'bench', 'results', 'gateway-latest.json')),
  keepTmp: flags['keep-tmp'] === true,
  strict: flags.strict === true,
  /** How long to wait for other processes to leave the CPUs alone before starting anyway. */
  maxWaitQuietS: num(flags['max-wait-quiet-s'], 120, 'max-wait-quiet-s'),
};

/** Machine busy % (all CPUs) above which the run waits, and per-phase foreign CPU (% of one core) that flags a phase. */
const QUIET_BUSY_PCT = 10;
const FOREIGN_CPU_WARN_PCT = 15;

const TARGETS = { saturationRps: 8000, addedP50C1Ms: 0.2, addedP99C32Ms: 2, rssMb: 150, cacheHitRps: 15000 } as const;

const ncpu = availableParallelism();
/**
 * CPU placement. In both pinned modes the load generator and the mock upstream (the harness)
 * share the last CPU, so their cost is bounded and the direct baseline is the same every run.
 * `strict` (default): the gateway alone on the other CPU(s) — one core on a 2-core box, shared
 * by its main thread, its trace writer thread and V8's GC threads; the most repeatable figures.
 * `shared`: the gateway may also use what the harness leaves of the last CPU, which shows more
 * throughput (its helper threads spill over) but noisier latency. `off`: the scheduler decides.
 */
type PinMode = 'shared' | 'strict' | 'off';
const pinFlag = flags['no-pin'] === true ? 'off' : (flags.pin ?? 'strict');
if (pinFlag !== 'shared' && pinFlag !== 'strict' && pinFlag !== 'off') {
  process.stderr.write(`bench: --pin expects shared, strict or off (got '${pinFlag}')\n`);
  process.exit(2);
}
if (pinFlag !== 'off' && !hasTaskset) process.stderr.write('bench: taskset is not available; running unpinned\n');
const pinMode: PinMode = hasTaskset && ncpu >= 2 ? pinFlag : 'off';
const pin = pinMode !== 'off';
const HARNESS_CPUS = String(ncpu - 1);
// Children inherit this process's affinity, so under `shared` the gateway is given every CPU explicitly.
const GATEWAY_CPUS: string | null = pinMode === 'strict' ? (ncpu > 2 ? `0-${ncpu - 2}` : '0') : pinMode === 'shared' ? `0-${ncpu - 1}` : null;
const OTHER_CPUS: string | null = pin ? HARNESS_CPUS : null;

// ---------------------------------------------------------------------------------------
// Child processes: always killed on exit

const children = new Set<ChildProcess>();
function killAll(signal: NodeJS.Signals): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        c.kill(signal);
      } catch {
        // already gone
      }
    }
  }
}
process.on('exit', () => killAll('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig} received, stopping child processes\n`);
    killAll('SIGTERM');
    process.exit(130);
  });
}

type Stdio = Array<'pipe' | 'inherit' | 'ignore' | 'ipc'>;

function spawnNode(name: string, args: string[], cpusList: string | null, stdio: Stdio, env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [cmd, argv] = pin && cpusList !== null ? ['taskset', ['-c', cpusList, process.execPath, ...args]] : [process.execPath, args];
  const cp = spawn(cmd, argv, { stdio, env, cwd: ROOT });
  children.add(cp);
  cp.once('exit', () => children.delete(cp));
  cp.once('error', (err) => process.stderr.write(`bench: ${name} failed to start: ${err.message}\n`));
  return cp;
}

/** Keeps the last bytes a child wrote, for error messages. */
function tail(stream: NodeJS.ReadableStream | null, keep = 16_384): { text(): string; lines: string[] } {
  let buf = '';
  const lines: string[] = [];
  stream?.on('data', (d: Buffer) => {
    const s = d.toString('utf8');
    buf = (buf + s).slice(-keep);
    for (const l of s.split('\n')) if (l.trim() !== '' && lines.length < 200) lines.push(l);
  });
  return { text: () => buf, lines };
}


function waitExit(cp: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (cp.exitCode !== null || cp.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), timeoutMs);
    cp.once('exit', () => {
      clearTimeout(timer);
      resolvePromise(true);
    });
  });
}

// ---------------------------------------------------------------------------------------
// /proc sampling

/** Busy and total ticks of the whole machine. */
function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Key of the gateway's main thread in CPU snapshots (a part of `gateway`, not a process). */
const GATEWAY_MAIN = 'gateway_main';

interface CpuSnapshot {
  at: number;
  procs: Record<string, number | undefined>;
  machine: { busy: number; total: number };
}

function cpuSnapshot(pids: Record<string, number>): CpuSnapshot {
  const procs: Record<string, number | undefined> = {};
  for (const [name, pid] of Object.entries(pids)) procs[name] = procCpuTicks(pid);
  // The gateway's main (event-loop) thread apart from its other threads (trace writer, GC helpers).
  if (pids.gateway) procs[GATEWAY_MAIN] = procCpuTicks(pids.gateway, pids.gateway);
  return { at: performance.now(), procs, machine: machineTicks() };
}

/** % of one core each process used between two snapshots, and the machine's busy % over all cores. */
function cpuBetween(a: CpuSnapshot, b: CpuSnapshot): Record<string, number | null> {
  const seconds = (b.at - a.at) / 1000;
  const out: Record<string, number | null> = {};
  for (const name of Object.keys(a.procs)) {
    const x = a.procs[name];
    const y = b.procs[name];
    out[name] = x === undefined || y === undefined || seconds <= 0 ? null : Math.round(((y - x) / CLK_TCK / seconds) * 1000) / 10;
  }
  const dt = b.machine.total - a.machine.total;
  out.machine = dt > 0 ? Math.round(((b.machine.busy - a.machine.busy) / dt) * 1000) / 10 : null;
  // CPU used by processes that are not part of the benchmark, in % of one core.
  const ours = Object.keys(a.procs).filter((name) => name !== GATEWAY_MAIN).reduce((sum, name) => sum + (out[name] ?? 0), 0);
  out.other = out.machine === null ? null : Math.max(0, Math.round(out.machine * ncpu - ours));
  return out;
}

// ---------------------------------------------------------------------------------------
// Load generator client

class Loadgen {
  private readonly pending = new Map<string, { resolve: (r: PhaseResult) => void; reject: (e: Error) => void; onMark: (m: 'measure-start' | 'measure-end') => void }>();
  private exited = false;

  constructor(readonly cp: ChildProcess) {
    cp.on('message', (raw: unknown) => {
      const msg = raw as LoadgenResponse;
      if (msg.type === 'ready') return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'mark') p.onMark(msg.mark);
      else if (msg.type === 'result') {
        this.pending.delete(msg.id);
        p.resolve(msg.result);
      } else {
        this.pending.delete(msg.id);
        p.reject(new Error(`load generator: ${msg.message}`));
      }
    });
    cp.once('exit', (code, signal) => {
      this.exited = true;
      for (const p of this.pending.values()) p.reject(new Error(`load generator exited (code ${code}, signal ${signal})`));
      this.pending.clear();
    });
  }

  static async start(): Promise<Loadgen> {
    const cp = spawnNode('load generator', [join(DIST_BENCH, 'load-generator.js')], OTHER_CPUS, ['pipe', 'inherit', 'inherit', 'ipc']);
    const lg = new Loadgen(cp);
    await new Promise<void>((resolvePromise, reject) => {
      const timer = setTimeout(() => reject(new Error('load generator did not start')), 10_000);
      cp.once('message', () => {
        clearTimeout(timer);
        resolvePromise();
      });
      cp.once('exit', () => reject(new Error('load generator exited during startup')));
    });
    return lg;
  }

  run(spec: PhaseSpec, onMark: (m: 'measure-start' | 'measure-end') => void): Promise<PhaseResult> {
    if (this.exited) return Promise.reject(new Error('load generator is not running'));
    return new Promise((resolvePromise, reject) => {
      this.pending.set(spec.id, { resolve: resolvePromise, reject, onMark });
      this.cp.send({ type: 'run', spec } satisfies LoadgenRequest);
    });
  }

  stop(): void {
    if (!this.exited && this.cp.connected) this.cp.send({ type: 'exit' } satisfies LoadgenRequest);
  }
}

// ---------------------------------------------------------------------------------------
// The run

interface Target {
  name: 'direct' | 'floor' | 'gateway';
  origin: string;
  headers: Record<string, string>;
  path(p: PhaseDef): string;
  model(p: PhaseDef): string;
}

interface PhaseOutcome extends PhaseResult {
  cpuPct: Record<string, number | null>;
  gatewayRssMaxMb: number | null;
}

interface PhaseDef {
  key: string;
  label: string;
  connections: number;
  seconds: number;
  delayMs: number;
  /** Per-request upstream delays drawn from this range (the mock's `/delay/body/` route). */
  jitter?: { min: number; max: number };
  stream: boolean;
  /** The gateway model for this phase, when not the default one (e.g. the cached model). */
  model?: string;
}

const mb = (kb: number | undefined): number | null => (kb === undefined ? null : Math.round(kb / 102.4) / 10);

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  const tmp = mkdtempSync(join(tmpdir(), 'llmops-bench-'));
  const cleanupTmp = (): void => {
    if (!opts.keepTmp) rmSync(tmp, { recursive: true, force: true });
  };
  process.on('exit', cleanupTmp);
  if (OTHER_CPUS !== null) {
    // The orchestrator itself is mostly asleep; keep it with the harness.
    spawnSync('taskset', ['-a', '-pc', OTHER_CPUS, String(process.pid)], { stdio: 'ignore' });
  }

  say(`llmops gateway benchmark — ${ncpu} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), node ${process.version}, ${Math.round(totalmem() / 2 ** 30)} GiB`);
  const git = gitState();
  say(`code: ${git.commit ?? 'unknown commit'}${git.srcDirty ? ' + uncommitted changes in src/' : ''} (dist/ as built by npm run build)`);
  // Other processes on the machine skew every figure: wait (bounded) until it is quiet.
  const busyOver = async (ms: number): Promise<number | null> => {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, ms));
    const b = machineTicks();
    return b.total > a.total ? Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10 : null;
  };
  let busyBeforePct = await busyOver(1000);
  const waitUntil = Date.now() + opts.maxWaitQuietS * 1000;
  if (busyBeforePct !== null && busyBeforePct > QUIET_BUSY_PCT && opts.maxWaitQuietS > 0) {
    say(`machine is ${busyBeforePct}% busy (other processes); waiting up to ${opts.maxWaitQuietS} s for it to quieten...`);
    while (busyBeforePct !== null && busyBeforePct > QUIET_BUSY_PCT && Date.now() < waitUntil) busyBeforePct = await busyOver(2000);
  }
  const load1 = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  say(`machine before the run: ${busyBeforePct ?? '?'}% busy, load average ${load1}`);
  if (busyBeforePct !== null && busyBeforePct > QUIET_BUSY_PCT) say(`WARNING: something else is using the CPUs (${busyBeforePct}% busy at start); the figures will be noisy`);
  say(
    pinMode === 'strict'
      ? `pinned (strict) with taskset: gateway alone on CPU ${GATEWAY_CPUS}; mock upstream, load generator and this process on CPU ${OTHER_CPUS}`
      : pinMode === 'shared'
        ? `pinned (shared) with taskset: mock upstream, load generator and this process on CPU ${OTHER_CPUS}; the gateway may use every CPU`
        : `not pinned${hasTaskset ? ' (--pin off)' : ' (taskset not found)'}: all processes share all CPUs`,
  );

  // 1. Mock upstream.
  const mock = spawnNode('mock upstream', [join(DIST_BENCH, 'mock-upstream.js')], OTHER_CPUS, ['pipe', 'pipe', 'pipe']);
  const mockErr = tail(mock.stderr);
  const mockPort = Number(
    await waitForLine(mock, 'mock upstream', (l) => {
      try {
        const m = JSON.parse(l) as { event?: string; port?: number };
        return m.event === 'listening' ? String(m.port) : undefined;
      } catch {
        return undefined;
      }
    }, 10_000, mockErr.text),
  );
  const mockOrigin = `http://127.0.0.1:${mockPort}`;

  // 1b. Floor proxy, on the gateway's CPU.
  let floorOrigin: string | null = null;
  let floorProc: ChildProcess | null = null;
  if (opts.floor) {
    floorProc = spawnNode('floor proxy', [join(DIST_BENCH, 'floor-proxy.js'), '--upstream', mockOrigin], GATEWAY_CPUS, ['pipe', 'pipe', 'pipe']);
    const floorErr = tail(floorProc.stderr);
    const floorPort = await waitForLine(floorProc, 'floor proxy', (l) => {
      try {
        const m = JSON.parse(l) as { event?: string; port?: number };
        return m.event === 'listening' ? String(m.port) : undefined;
      } catch {
        return undefined;
      }
    }, 10_000, floorErr.text);
    floorOrigin = `http://127.0.0.1:${floorPort}`;
  }

  // 2. Gateway: the real CLI with a temp config and SQLite store.
  const dbPath = join(tmp, 'llmops.db');
  const delayPrefix = `/delay/${opts.upstreamDelayMs}`;
  const config = {
    server: { host: '127.0.0.1', port: 0, log_level: 'warn' },
    store: { url: `sqlite:${dbPath}` },
    providers_from_env: false,
    providers: {
      mock: { type: 'openai', api_key: 'sk-mock-upstream', base_url: `${mockOrigin}/v1` },
      mock_delayed: { type: 'openai', api_key: 'sk-mock-upstream', base_url: `${mockOrigin}${delayPrefix}/v1` },
      mock_jitter: { type: 'openai', api_key: 'sk-mock-upstream', base_url: `${mockOrigin}/delay/body/v1` },
    },
    models: {
      bench: { targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
      'bench-delayed': { targets: [{ provider: 'mock_delayed', model: 'gpt-4o-mini' }] },
      'bench-jitter': { targets: [{ provider: 'mock_jitter', model: 'gpt-4o-mini' }] },
      // The exact-cache hit phase: after the first call every request is answered from the cache.
      'bench-cached': { targets: [{ provider: 'mock', model: 'gpt-4o-mini' }] },
    },
    cache: { models: { bench: { enabled: false }, 'bench-delayed': { enabled: false }, 'bench-jitter': { enabled: false } } },
    ...limitsBenchConfig(flags.limits),
    ...guardsBenchConfig(flags.guards),
    traces: { capture: { default: flags.capture } },
  };
  const configPath = join(tmp, 'llmops.yaml');
  writeFileSync(configPath, `# generated by bench/gateway-bench.ts (JSON is YAML)\n${JSON.stringify(config, null, 2)}\n`);
  const adminKey = `sk-llmops-admin-bench-${randomBytes(16).toString('hex')}`;
  const profDir = join(ROOT, 'bench', 'results', 'profiles');
  // The flags `llmops serve` runs with (its shebang and `npm start`), then the run's own.
  const nodeFlags = [...SERVE_NODE_FLAGS, ...opts.nodeFlags, ...(opts.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [])];
  if (opts.cpuProf) mkdirSync(profDir, { recursive: true });
  const gatewayEnv: NodeJS.ProcessEnv = { ...process.env, LLMOPS_ADMIN_KEY: adminKey, NODE_ENV: 'production' };
  delete gatewayEnv.LLMOPS_CONFIG;
  const gw = spawnNode(
    'gateway',
    [...nodeFlags, '--import', pathToFileURL(join(DIST_BENCH, 'parent-watch.js')).href, join(ROOT, 'dist', 'src', 'cli.js'), 'serve', '--config', configPath, '--port', '0', '--host', '127.0.0.1'],
    GATEWAY_CPUS,
    ['pipe', 'pipe', 'pipe'],
    gatewayEnv,
  );
  const gwErr = tail(gw.stderr);
  const gwUrl = await waitForLine(gw, 'gateway', (l) => /llmops listening on (http:\/\/\S+)/.exec(l)?.[1], 20_000, gwErr.text);
  const gwPid = gw.pid ?? 0;
  const ready = await waitReady(`${gwUrl}/ready`, 15_000);
  if (!ready) throw new Error(`gateway never became ready\n${gwErr.text()}`);

  // 3. A stored virtual key, through the admin API (the real key lookup path).
  const created = await fetch(`${gwUrl}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', models: ['bench', 'bench-delayed', 'bench-cached', 'bench-jitter'] }),
  });
  if (created.status !== 201) throw new Error(`creating the virtual key failed: HTTP ${created.status} ${await created.text()}`);
  const vkey = (await created.json()) as { id: string; key: string };

  // 4. One checked request each way before any load.
  const body = (model: string, stream: boolean): string =>
    JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 16, ...(stream ? { stream: true } : {}) });
  const probe = await fetch(`${gwUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${vkey.key}`, 'content-type': 'application/json' },
    body: body('bench', false),
  });
  const probeText = await probe.text();
  if (probe.status !== 200 || !probeText.includes('"choices"')) throw new Error(`probe request through the gateway failed: HTTP ${probe.status} ${probeText}`);
  let gatewayRequests = 1;
  say(`mock upstream ${mockOrigin} (pid ${mock.pid}); gateway ${gwUrl} (pid ${gwPid}); virtual key ${vkey.id}; store ${dbPath}`);

  const lg = await Loadgen.start();
  const pids: Record<string, number> = { gateway: gwPid, mock: mock.pid ?? 0, loadgen: lg.cp.pid ?? 0, bench: process.pid, ...(floorProc?.pid ? { floor: floorProc.pid } : {}) };

  // RSS sampling over the whole run.
  let rssMaxKb = 0;
  let phaseRssMaxKb = 0;
  const sampler = setInterval(() => {
    const kb = procStatusKb(gwPid, 'VmRSS');
    if (kb !== undefined) {
      rssMaxKb = Math.max(rssMaxKb, kb);
      phaseRssMaxKb = Math.max(phaseRssMaxKb, kb);
    }
  }, 100);
  sampler.unref();

  const mockPath = (p: PhaseDef): string => (p.jitter ? '/delay/body/v1/chat/completions' : p.delayMs > 0 ? `${delayPrefix}/v1/chat/completions` : '/v1/chat/completions');
  const direct: Target = {
    name: 'direct',
    origin: mockOrigin,
    headers: { authorization: 'Bearer sk-mock-upstream' },
    path: mockPath,
    model: () => 'gpt-4o-mini',
  };
  const viaFloor: Target | null = floorOrigin
    ? {
        name: 'floor',
        origin: floorOrigin,
        headers: { authorization: 'Bearer sk-mock-upstream' },
        // The cache-hit phase: the floor proxy answers repeated bodies from memory.
        path: (p) => (p.key === 'cache_hit' ? `/cached${mockPath(p)}` : mockPath(p)),
        model: () => 'gpt-4o-mini',
      }
    : null;
  const viaGateway: Target = {
    name: 'gateway',
    origin: gwUrl,
    headers: { authorization: `Bearer ${vkey.key}` },
    path: () => '/v1/chat/completions',
    model: (p) => p.model ?? (p.jitter ? 'bench-jitter' : p.delayMs > 0 ? 'bench-delayed' : 'bench'),
  };
  const targets = [direct, ...(viaFloor ? [viaFloor] : []), viaGateway];

  let seq = 0;
  const runOne = async (t: Target, p: PhaseDef, warmupS: number): Promise<PhaseOutcome> => {
    const spec: PhaseSpec = {
      id: `${p.key}-${t.name}-${++seq}`,
      origin: t.origin,
      path: t.path(p),
      headers: t.headers,
      body: body(t.model(p), p.stream),
      stream: p.stream,
      connections: p.connections,
      warmupMs: Math.round(warmupS * 1000),
      durationMs: Math.round(p.seconds * 1000),
      ...(p.jitter ? { delayRangeMs: p.jitter } : {}),
    };
    let start: CpuSnapshot | undefined;
    let end: CpuSnapshot | undefined;
    const result = await lg.run(spec, (mark) => {
      if (mark === 'measure-start') {
        start = cpuSnapshot(pids);
        phaseRssMaxKb = 0;
      } else {
        end = cpuSnapshot(pids);
      }
    });
    if (t.name === 'gateway') gatewayRequests += result.completed;
    const cpuPct = start && end ? cpuBetween(start, end) : {};
    return { ...result, cpuPct, gatewayRssMaxMb: t.name === 'gateway' ? mb(phaseRssMaxKb) : null };
  };

  const phases: PhaseDef[] = [
    { key: 'saturation', label: `saturation, ${opts.saturationConnections} connections`, connections: opts.saturationConnections, seconds: opts.saturationS, delayMs: 0, stream: false },
    { key: 'c1', label: 'concurrency 1', connections: 1, seconds: opts.latency1S, delayMs: 0, stream: false },
    { key: 'c32', label: 'concurrency 32 (instant upstream: saturated)', connections: 32, seconds: opts.latency32S, delayMs: 0, stream: false },
  ];
  phases.splice(1, 0, { key: 'cache_hit', label: `exact-cache hits, ${opts.saturationConnections} connections`, connections: opts.saturationConnections, seconds: opts.saturationS, delayMs: 0, stream: false, model: 'bench-cached' });
  if (opts.upstreamDelayMs > 0) {
    phases.push({ key: 'c32_delayed', label: `concurrency 32, upstream answers in ${opts.upstreamDelayMs} ms`, connections: 32, seconds: opts.latency32S, delayMs: opts.upstreamDelayMs, stream: false });
  }
  if (opts.upstreamJitterMs) {
    const j = opts.upstreamJitterMs;
    phases.push({ key: 'c32_jitter', label: `concurrency 32, upstream answers in ${j.min}-${j.max} ms`, connections: 32, seconds: opts.latency32S, delayMs: 0, jitter: j, stream: false });
  }
  if (opts.stream) {
    phases.push({ key: 'stream_saturation', label: `streaming saturation, ${opts.saturationConnections} connections`, connections: opts.saturationConnections, seconds: opts.saturationS, delayMs: 0, stream: true });
  }

  // Warm-up: first contact with each target (JIT, connection pools), discarded.
  say(`warm-up ${opts.warmupS} s per target...`);
  for (const t of targets) {
    await runOne(t, { key: 'warmup', label: 'warm-up', connections: 32, seconds: opts.warmupS, delayMs: 0, stream: false }, 0);
  }

  const results: Record<string, { label: string; direct: PhaseOutcome; floor: PhaseOutcome | null; gateway: PhaseOutcome }> = {};
  for (const p of phases) {
    process.stdout.write(`${p.label}: ${p.seconds} s each, direct${viaFloor ? ', floor proxy' : ''} then via gateway... `);
    const d = await runOne(direct, p, opts.phaseWarmupS);
    const fl = viaFloor ? await runOne(viaFloor, p, opts.phaseWarmupS) : null;
    const g = await runOne(viaGateway, p, opts.phaseWarmupS);
    results[p.key] = { label: p.label, direct: d, floor: fl, gateway: g };
    say(`${d.rps}${fl ? ` / ${fl.rps}` : ''} / ${g.rps} req/s`);
  }
  clearInterval(sampler);
  lg.stop();

  // 5. Peak RSS, the mock's count, then stop the gateway (drains traces) and count them.
  const hwmKb = procStatusKb(gwPid, 'VmHWM');
  const finalRssKb = procStatusKb(gwPid, 'VmRSS');
  const mockStats = await fetch(`${mockOrigin}/stats`).then((r) => r.json() as Promise<{ served: number; streamed: number }>).catch(() => null);
  const stopAt = performance.now();
  gw.kill('SIGTERM');
  const exited = await waitExit(gw, 60_000);
  const shutdownMs = Math.round(performance.now() - stopAt);
  if (!exited) gw.kill('SIGKILL');
  mock.kill('SIGTERM');
  floorProc?.kill('SIGTERM');
  await waitExit(lg.cp, 5_000);

  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const traceCount = (db.prepare('SELECT count(*) AS n FROM traces').get() as { n: number }).n;
  // The trace schema evolves: the detail queries are best-effort.
  const tryQuery = <T>(f: () => T, fallback: T): T => {
    try {
      return f();
    } catch {
      return fallback;
    }
  };
  const byStatus = tryQuery(() => db.prepare('SELECT http_status AS status, count(*) AS n FROM traces GROUP BY http_status ORDER BY n DESC').all() as Array<{ status: number; n: number }>, []);
  const withKey = tryQuery(() => (db.prepare('SELECT count(*) AS n FROM traces WHERE key_id = ?').get(vkey.id) as { n: number }).n, -1);
  const withUsage = tryQuery(() => (db.prepare('SELECT count(*) AS n FROM traces WHERE input_tokens = 9 AND output_tokens = 9').get() as { n: number }).n, -1);
  const dbBytes = tryQuery(() => {
    const p = db.pragma('page_count', { simple: true }) as number;
    const s = db.pragma('page_size', { simple: true }) as number;
    return p * s;
  }, -1);
  db.close();

  // 6. Figures and verdicts.
  const sat = results.saturation;
  const c1 = results.c1;
  const c32 = results.c32;
  const c32d = results.c32_delayed;
  const c32j = results.c32_jitter;
  /** A phase's latency: for the jittered phase, each request's latency minus the time the mock held it. */
  const latencyOf = (r: PhaseOutcome | null | undefined): LatencySummary | undefined => (r ? (r.beyondDelayMs ?? r.latencyMs) : undefined);
  const add = (g: number | undefined, d: number | undefined): number | null => (g === undefined || d === undefined || !Number.isFinite(g) || !Number.isFinite(d) ? null : Math.round((g - d) * 1000) / 1000);
  const c32Target = c32j ?? c32d ?? c32;
  const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL');
  const addedC1P50 = add(c1?.gateway.latencyMs.p50, c1?.direct.latencyMs.p50);
  const addedC32P99 = add(latencyOf(c32Target?.gateway)?.p99, latencyOf(c32Target?.direct)?.p99);
  const peakRssMb = mb(Math.max(hwmKb ?? 0, rssMaxKb));
  const checks = {
    throughput: sat ? sat.gateway.rps >= TARGETS.saturationRps : null,
    addedP50C1: addedC1P50 === null ? null : addedC1P50 <= TARGETS.addedP50C1Ms,
    addedP99C32: addedC32P99 === null ? null : addedC32P99 <= TARGETS.addedP99C32Ms,
    rss: peakRssMb === null ? null : peakRssMb <= TARGETS.rssMb,
    cacheHit: results.cache_hit ? results.cache_hit.gateway.rps >= TARGETS.cacheHitRps : null,
  };
  const allPhases = Object.values(results).flatMap((r) => [r.direct, ...(r.floor ? [r.floor] : []), r.gateway]);
  const errorTotal = allPhases.reduce((a, r) => a + r.errorCount + r.stuck, 0);
  const badBodies = allPhases.filter((r) => !r.firstBodyOk).map((r) => r.id);
  const tracesOk = traceCount === gatewayRequests && (withKey === -1 || withKey === gatewayRequests);

  const f = (n: number | null | undefined, digits = 3): string => (n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));
  const int = (n: number | null | undefined): string => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
  const pct = (g: number, d: number | undefined): string => (d !== undefined && d > 0 ? `${Math.round((g / d) * 100)}%` : '-');
  // Columns: figure, direct mock, floor proxy, via gateway, added (gateway − direct, or % of direct), over floor (gateway − floor, or % of floor), target, verdict.
  const withFloor = opts.floor;
  const row = (label: string, d: string, fl: string, g: string, added: string, overFloor: string, target: string, v: string): string[] =>
    withFloor ? [label, d, fl, g, added, overFloor, target, v] : [label, d, g, added, target, v];
  const rows: string[][] = [];
  const rateRow = (label: string, r: (typeof results)[string], target: string, v: string): void => {
    rows.push(row(label, int(r.direct.rps), int(r.floor?.rps), int(r.gateway.rps), `${pct(r.gateway.rps, r.direct.rps)} of direct`, r.floor ? `${pct(r.gateway.rps, r.floor.rps)} of floor` : '', target, v));
  };
  if (sat) rateRow(`throughput @c${sat.gateway.connections} (req/s)`, sat, `gateway >= ${int(TARGETS.saturationRps)}`, verdict(checks.throughput));
  for (const [key, r] of Object.entries(results)) {
    if (key === 'saturation' || key === 'stream_saturation' || key === 'cache_hit') continue;
    const tag =
      key === 'c1' ? '@c1' : key === 'c32' ? '@c32 instant' : key === 'c32_jitter' ? `@c32 +${opts.upstreamJitterMs?.min}-${opts.upstreamJitterMs?.max}ms, beyond upstream` : `@c32 +${opts.upstreamDelayMs}ms`;
    for (const q of ['p50', 'p99'] as const) {
      const isTarget = (key === 'c1' && q === 'p50') || (r === c32Target && q === 'p99');
      const target = key === 'c1' && q === 'p50' ? `added <= ${TARGETS.addedP50C1Ms}` : r === c32Target && q === 'p99' ? `added <= ${TARGETS.addedP99C32Ms}` : '';
      const v = key === 'c1' && q === 'p50' ? checks.addedP50C1 : r === c32Target && q === 'p99' ? checks.addedP99C32 : null;
      const g = latencyOf(r.gateway)![q];
      const d = latencyOf(r.direct)![q];
      const fl = latencyOf(r.floor)?.[q];
      rows.push(row(`latency ${tag} ${q} (ms)`, f(d), f(fl), f(g), f(add(g, d)), f(add(g, fl)), target, isTarget ? verdict(v) : ''));
    }
    rows.push(row(`  (req/s ${tag})`, int(r.direct.rps), int(r.floor?.rps), int(r.gateway.rps), '', '', '', ''));
  }
  const ch = results.cache_hit;
  if (ch) rateRow(`exact-cache hit throughput @c${ch.gateway.connections} (req/s)`, ch, `gateway >= ${int(TARGETS.cacheHitRps)}`, verdict(checks.cacheHit));
  const ss = results.stream_saturation;
  if (ss) rateRow(`stream throughput @c${ss.gateway.connections} (req/s)`, ss, '', '');
  rows.push(row('gateway peak RSS (MB)', '', '', f(peakRssMb, 1), '', '', `<= ${TARGETS.rssMb}`, verdict(checks.rss)));
  const errorsOf = (side: string): string => int(allPhases.filter((r) => r.id.includes(`-${side}-`)).reduce((a, r) => a + r.errorCount, 0));
  rows.push(row('errors (non-200, transport)', errorsOf('direct'), withFloor ? errorsOf('floor') : '', errorsOf('gateway'), '', '', '0', verdict(errorTotal === 0)));
  rows.push(row('traces stored / gateway requests', '', '', `${int(traceCount)} / ${int(gatewayRequests)}`, '', '', 'equal', verdict(tracesOk)));

  say('');
  process.stdout.write(renderTable(withFloor ? ['', 'direct mock', 'floor proxy', 'via gateway', 'added', 'over floor', 'target', ''] : ['', 'direct mock', 'via gateway', 'added', 'target', ''], rows));
  say('');
  const cpuRows = Object.entries(results).flatMap(([key, r]) =>
    (['direct', 'floor', 'gateway'] as const).flatMap((side) => {
      const o = r[side];
      if (!o) return [];
      const c = o.cpuPct;
      // The process under test: the gateway, or the floor proxy in its own runs.
      const proc = side === 'floor' ? (c.floor ?? null) : side === 'gateway' ? (c.gateway ?? null) : null;
      const main = side === 'gateway' ? (c[GATEWAY_MAIN] ?? null) : null;
      // CPU per request: what a request costs the process under test in all (for the gateway: main thread + trace writer + GC helpers).
      const usPerReq = proc !== null && o.rps > 0 ? (proc / 100 / o.rps) * 1e6 : null;
      return [
        [
          `${key} ${side}`,
          int(o.rps),
          f(side === 'floor' ? proc : (c.gateway ?? null), 0),
          side === 'gateway' ? f(main, 0) : '',
          side === 'gateway' && proc !== null && main !== null ? f(proc - main, 0) : '',
          f(usPerReq, 0),
          f(c.mock ?? null, 0),
          f(o.loadgenCpuPct, 0),
          f(c.other ?? null, 0),
          f(c.machine ?? null, 0),
        ],
      ];
    }),
  );
  say('CPU over each measured window (% of one core; gateway/floor = the process under test (the floor proxy in its own runs); gw main = the gateway\'s event-loop thread, gw rest = its trace writer + GC/libuv threads; µs/req = CPU per request of the process under test; other = processes outside the benchmark; machine = % of all cores):');
  process.stdout.write(renderTable(['phase', 'req/s', 'gw/floor', 'gw main', 'gw rest', 'µs/req', 'mock', 'loadgen', 'other', 'machine'], cpuRows));
  const noisy = allPhases.filter((r) => (r.cpuPct.other ?? 0) > FOREIGN_CPU_WARN_PCT).map((r) => `${r.id} (${r.cpuPct.other}%)`);
  if (noisy.length > 0) say(`WARNING: other processes used CPU during ${noisy.join(', ')}: those figures are unreliable; rerun on a quiet machine`);
  say('');
  say(
    `traces: ${traceCount} stored (${withKey} under key ${vkey.id}, ${withUsage} with the upstream's usage; by status ${byStatus.map((s) => `${s.status}:${s.n}`).join(' ')}; ${(dbBytes / 2 ** 20).toFixed(1)} MiB of SQLite); gateway answered ${gatewayRequests}; mock served ${mockStats ? mockStats.served + mockStats.streamed : '?'}; gateway shutdown took ${shutdownMs} ms`,
  );
  if (badBodies.length > 0) say(`WARNING: the first answer of ${badBodies.join(', ')} was not a valid completion`);
  for (const r of allPhases) if (r.errorCount + r.stuck > 0) say(`errors in ${r.id}: ${JSON.stringify(r.errors)}${r.stuck ? ` (+${r.stuck} never answered)` : ''}`);
  const gwLog = gwErr.lines;
  if (gwLog.length > 0) say(`gateway stderr (${gwLog.length} lines, first 5):\n  ${gwLog.slice(0, 5).join('\n  ')}`);
  if (c32j || c32d) {
    say(
      `note: at concurrency 32 against an instant mock every request queues behind the others (latency ≈ 32 / throughput), so "@c32 instant" measures saturation.${c32d ? ` With a fixed ${opts.upstreamDelayMs} ms upstream the 32 answers come back in step, one train of 32 every ${opts.upstreamDelayMs} ms, so each waits behind the others in its train.` : ''}${c32j ? ` The added-latency target is judged on "@c32 +${opts.upstreamJitterMs!.min}-${opts.upstreamJitterMs!.max}ms": every request asks the mock for its own delay from that range, the mock's answer says how long it really held it, and each request's latency minus that time is what the row shows (p50/p99 of those), for the mock called directly and through the gateway.` : ` The added-latency target is judged on "@c32 +${opts.upstreamDelayMs}ms".`}`,
    );
  }

  const report = {
    version: 1,
    at: new Date().toISOString(),
    machine: { cpus: ncpu, model: cpus()[0]?.model.trim() ?? null, node: process.version, platform: `${process.platform}-${process.arch}`, memGiB: Math.round(totalmem() / 2 ** 30) },
    code: git,
    machineBefore: { busyPct: busyBeforePct, loadavg1: load1 },
    options: { ...opts, out: relative(ROOT, opts.out) },
    pinned: { mode: pinMode, gateway: GATEWAY_CPUS ?? 'any', harness: OTHER_CPUS ?? 'any' },
    targets: TARGETS,
    summary: {
      saturationRps: { direct: sat?.direct.rps ?? null, floor: sat?.floor?.rps ?? null, gateway: sat?.gateway.rps ?? null },
      /** The floor proxy (the least any Node proxy costs here, on the gateway's CPU): its own figures, measured like the gateway's. */
      floor: opts.floor
        ? {
            saturationRps: sat?.floor?.rps ?? null,
            cacheHitRps: results.cache_hit?.floor?.rps ?? null,
            c1AddedP50Ms: add(c1?.floor?.latencyMs.p50, c1?.direct.latencyMs.p50),
            c32AddedP99Ms: add(latencyOf(c32Target?.floor)?.p99, latencyOf(c32Target?.direct)?.p99),
          }
        : null,
      cacheHitRps: results.cache_hit?.gateway.rps ?? null,
      c1: { direct: c1?.direct.latencyMs ?? null, gateway: c1?.gateway.latencyMs ?? null, addedP50Ms: addedC1P50, addedP99Ms: add(c1?.gateway.latencyMs.p99, c1?.direct.latencyMs.p99) },
      c32: { direct: c32?.direct.latencyMs ?? null, gateway: c32?.gateway.latencyMs ?? null, addedP50Ms: add(c32?.gateway.latencyMs.p50, c32?.direct.latencyMs.p50), addedP99Ms: add(c32?.gateway.latencyMs.p99, c32?.direct.latencyMs.p99) },
      c32Delayed: c32d
        ? { upstreamDelayMs: opts.upstreamDelayMs, direct: c32d.direct.latencyMs, gateway: c32d.gateway.latencyMs, addedP50Ms: add(c32d.gateway.latencyMs.p50, c32d.direct.latencyMs.p50), addedP99Ms: add(c32d.gateway.latencyMs.p99, c32d.direct.latencyMs.p99) }
        : null,
      c32Jitter: c32j
        ? {
            upstreamDelayRangeMs: opts.upstreamJitterMs,
            direct: c32j.direct.beyondDelayMs ?? null,
            gateway: c32j.gateway.beyondDelayMs ?? null,
            addedP50Ms: add(c32j.gateway.beyondDelayMs?.p50, c32j.direct.beyondDelayMs?.p50),
            addedP99Ms: add(c32j.gateway.beyondDelayMs?.p99, c32j.direct.beyondDelayMs?.p99),
          }
        : null,
      gatewayPeakRssMb: peakRssMb,
      gatewayFinalRssMb: mb(finalRssKb),
      errors: errorTotal,
      noisyPhases: allPhases.filter((r) => (r.cpuPct.other ?? 0) > FOREIGN_CPU_WARN_PCT).map((r) => r.id),
      traces: { stored: traceCount, withKey, withUsage, byStatus, dbBytes, gatewayRequests, mockServed: mockStats, shutdownMs },
      checks,
    },
    phases: results,
  };
  mkdirSync(dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  say(`\nresults written to ${relative(process.cwd(), opts.out) || opts.out}`);
  if (opts.cpuProf) say(`gateway CPU profile written under ${relative(process.cwd(), profDir)} (summarize: node dist/bench/profile-summary.js <file>)`);

  if (errorTotal > 0 || !tracesOk || badBodies.length > 0) return 1;
  if (opts.strict && Object.values(checks).some((c) => c === false)) return 2;
  return 0;
}

/** Read-only git facts (no index refresh, no locks). */
function gitState(): { commit: string | null; srcDirty: boolean | null } {
  const env = { ...process.env, GIT_OPTIONAL_LOCKS: '0' };
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, env, encoding: 'utf8' });
  const diff = spawnSync('git', ['diff', '--quiet', 'HEAD', '--', 'src'], { cwd: ROOT, env, stdio: 'ignore' });
  return {
    commit: head.status === 0 ? head.stdout.trim() : null,
    srcDirty: diff.status === 0 ? false : diff.status === 1 ? true : null,
  };
}

async function waitReady(url: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return true;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

main().then(
  (code) => {
    killAll('SIGKILL');
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`\nbench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    killAll('SIGKILL');
    process.exit(1);
  },
);
