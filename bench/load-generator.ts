/**
 * The benchmark's load generator, run as its own process and driven over IPC by
 * `gateway-bench`. It keeps N keep-alive connections (one undici `Client` each, no
 * pipelining) with exactly one request in flight on each, sends a tiny preserialized body
 * through the raw `Client.dispatch` handler API (no promise, stream or header-object per
 * request), and records every request's latency from `performance.now()` (sub-microsecond
 * resolution). A phase is a warm-up (discarded) followed by a measured window; requests
 * started in the window give the latency percentiles, responses completed in it the
 * throughput. Any non-200 status or transport error is counted.
 *
 * Without an IPC channel it runs one phase from flags and prints the result as JSON (for
 * profiling by hand): node dist/bench/load-generator.js --url http://127.0.0.1:8080/v1/chat/completions
 *   [--connections 64] [--duration-s 10] [--warmup-s 1] [--header 'authorization: Bearer sk-...']
 *   [--body '{"model":"m","messages":[{"role":"user","content":"Hi"}]}'] [--delay-range-ms 10-30]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Client, type Dispatcher } from 'undici';
import { mulberry32 } from '../src/prng.js';
import { parseDelayRange, type LatencySummary, type LoadgenRequest, type LoadgenResponse, type PhaseResult, type PhaseSpec } from './protocol.js';

function send(msg: LoadgenResponse): void {
  process.send?.(msg);
}

/** Grows by doubling; holds latencies in ms. */
class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  sorted(): Float64Array {
    return this.buf.slice(0, this.length).sort();
  }
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The mock's `/delay/body/` answers carry how long it held the request in their id. */
const HELD = /chatcmpl-held-(\d+\.\d+)/;

interface PhaseState {
  spec: PhaseSpec;
  measureStart: number;
  measureEnd: number;
  stopping: boolean;
  inFlight: number;
  sent: number;
  completed: number;
  windowCompleted: number;
  windowOk: number;
  errors: Map<string, number>;
  samples: Samples;
  /** With per-request delays: each request's latency minus the time the mock held it (the answer's id says). */
  beyond: Samples;
  /** With per-request delays: the requests (each body names its delay), used in turn. */
  bodies: Dispatcher.DispatchOptions[] | null;
  nextBody: number;
  bytes: number;
  firstBody: Buffer[] | null;
  firstBodyDone: boolean;
  consecutiveErrors: number;
  onIdle: (() => void) | null;
  /** Sends the measure-start / measure-end marks once each (from a timer or a completion, whichever is first). */
  mark: (m: 'measure-start' | 'measure-end') => void;
}

/**
 * One connection with one request in flight. The worker is its own (legacy-style) undici
 * dispatch handler, reused for every request: no per-request allocation beyond undici's own.
 */
class Worker implements Dispatcher.DispatchHandler {
  private start = 0;
  private status = 0;
  private capture = false;
  /** With per-request delays: the start of the answer, where the mock's held time is. */
  private held = '';

  constructor(
    private readonly client: Client,
    private readonly opts: Dispatcher.DispatchOptions,
    private readonly st: PhaseState,
  ) {}

  fire(): void {
    const st = this.st;
    if (st.stopping) return;
    st.inFlight++;
    st.sent++;
    this.status = 0;
    this.capture = st.firstBody !== null && !st.firstBodyDone;
    if (this.capture) st.firstBodyDone = true;
    this.held = '';
    const opts = st.bodies ? st.bodies[st.nextBody++ % st.bodies.length]! : this.opts;
    this.start = performance.now();
    this.client.dispatch(opts, this);
  }

  onConnect(): void {}

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.st.bytes += chunk.length;
    if (this.capture) this.st.firstBody?.push(chunk);
    if (this.st.bodies && this.held.length < 256) this.held += chunk.toString('latin1', 0, Math.min(chunk.length, 256));
    return true;
  }

  onComplete(): void {
    this.finish(this.status === 200 ? null : `http_${this.status}`);
  }

  onError(err: Error): void {
    const code = (err as { code?: unknown }).code;
    this.finish(`error_${typeof code === 'string' ? code : err.name}`);
  }

  private finish(failure: string | null): void {
    let error = failure;
    const end = performance.now();
    const st = this.st;
    st.inFlight--;
    st.completed++;
    if (this.start >= st.measureStart && this.start < st.measureEnd) {
      st.samples.push(end - this.start);
      if (st.bodies && error === null) {
        const m = HELD.exec(this.held);
        if (m) st.beyond.push(end - this.start - Number(m[1]));
        else error = 'no_held_time_in_answer';
      }
    }
    if (end >= st.measureStart && end < st.measureEnd) {
      st.windowCompleted++;
      if (error === null) st.windowOk++;
    }
    if (error !== null) {
      st.errors.set(error, (st.errors.get(error) ?? 0) + 1);
      st.consecutiveErrors++;
    } else {
      st.consecutiveErrors = 0;
    }
    if (end >= st.measureStart) st.mark('measure-start');
    if (end >= st.measureEnd) {
      st.mark('measure-end');
      st.stopping = true;
    }
    if (st.stopping) {
      if (st.inFlight === 0) st.onIdle?.();
      return;
    }
    // A dead target must not turn into a hot error loop.
    if (st.consecutiveErrors > 50) setTimeout(() => this.fire(), 20);
    else this.fire();
  }
}

function summarize(sorted: Float64Array): LatencySummary {
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    samples: sorted.length,
    min: round3(sorted[0] ?? Number.NaN),
    mean: round3(sorted.length ? sum / sorted.length : Number.NaN),
    p50: round3(quantile(sorted, 0.5)),
    p90: round3(quantile(sorted, 0.9)),
    p99: round3(quantile(sorted, 0.99)),
    p999: round3(quantile(sorted, 0.999)),
    max: round3(sorted[sorted.length - 1] ?? Number.NaN),
  };
}

/**
 * Bodies for a phase with per-request delays: 1,024 copies of the body whose last message
 * ends with `[mock-delay-ms N]`, N drawn uniformly from the range by a seeded generator (the
 * same delays in the same order every run, for every target).
 */
function delayedBodies(spec: PhaseSpec, base: Dispatcher.DispatchOptions): Dispatcher.DispatchOptions[] {
  const { min, max } = spec.delayRangeMs!;
  const next = mulberry32(42);
  const parsed = JSON.parse(spec.body) as { messages?: Array<{ content?: unknown }> };
  const last = parsed.messages?.at(-1);
  if (!last || typeof last.content !== 'string') throw new Error('load-generator: a delay range needs a body whose last message has string content');
  const content = last.content;
  const headers = base.headers as string[];
  return Array.from({ length: 1024 }, () => {
    const delayMs = Math.round((min + next() * (max - min)) * 1000) / 1000;
    last.content = `${content} [mock-delay-ms ${delayMs}]`;
    const body = Buffer.from(JSON.stringify(parsed));
    const h = [...headers];
    h[h.indexOf('content-length') + 1] = String(body.length);
    return { ...base, headers: h, body };
  });
}

async function runPhase(spec: PhaseSpec): Promise<PhaseResult> {
  const body = Buffer.from(spec.body);
  const headers: string[] = ['content-type', 'application/json', 'content-length', String(body.length)];
  for (const [k, v] of Object.entries(spec.headers)) headers.push(k, v);
  const opts: Dispatcher.DispatchOptions = { path: spec.path, method: 'POST', headers, body };
  const clients: Client[] = [];
  for (let i = 0; i < spec.connections; i++) {
    clients.push(new Client(spec.origin, { pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 }));
  }
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  const now = performance.now();
  const st: PhaseState = {
    spec,
    measureStart: now + spec.warmupMs,
    measureEnd: now + spec.warmupMs + spec.durationMs,
    stopping: false,
    inFlight: 0,
    sent: 0,
    completed: 0,
    windowCompleted: 0,
    windowOk: 0,
    errors: new Map(),
    samples: new Samples(),
    beyond: new Samples(),
    bodies: spec.delayRangeMs ? delayedBodies(spec, opts) : null,
    nextBody: 0,
    bytes: 0,
    firstBody: [],
    firstBodyDone: false,
    consecutiveErrors: 0,
    onIdle: null,
    mark: (m) => {
      if (m === 'measure-start') {
        if (cpuAtStart) return;
        cpuAtStart = process.cpuUsage();
      } else {
        if (cpuAtEnd) return;
        cpuAtStart ??= process.cpuUsage();
        cpuAtEnd = process.cpuUsage();
      }
      send({ type: 'mark', id: spec.id, mark: m });
    },
  };
  // Tell the orchestrator when the measured window opens and closes (it samples /proc then).
  const tStart = setTimeout(() => st.mark('measure-start'), Math.max(0, st.measureStart - performance.now()));
  const tEnd = setTimeout(() => {
    st.mark('measure-end');
    st.stopping = true;
    if (st.inFlight === 0) st.onIdle?.();
  }, Math.max(0, st.measureEnd - performance.now()));

  const idle = new Promise<void>((resolve) => {
    st.onIdle = resolve;
  });
  const workers = clients.map((c) => new Worker(c, opts, st));
  for (const w of workers) w.fire();
  // The safety net: a phase never runs more than 30 s past its end.
  const hard = setTimeout(() => st.onIdle?.(), spec.warmupMs + spec.durationMs + 30_000);
  await idle;
  clearTimeout(hard);
  clearTimeout(tStart);
  clearTimeout(tEnd);
  st.mark('measure-end');
  cpuAtEnd ??= process.cpuUsage();
  cpuAtStart ??= cpuAtEnd;
  const drainStuck = st.inFlight;
  await Promise.all(clients.map((c) => (drainStuck > 0 ? c.destroy() : c.close()).catch(() => undefined)));

  const sorted = st.samples.sorted();
  const windowS = spec.durationMs / 1000;
  const firstBody = Buffer.concat(st.firstBody ?? []).toString('utf8');
  let firstBodyOk = false;
  if (spec.stream) {
    firstBodyOk = firstBody.includes('"delta"') && firstBody.trimEnd().endsWith('data: [DONE]');
  } else {
    try {
      const parsed = JSON.parse(firstBody) as { choices?: Array<{ message?: { content?: unknown } }> };
      firstBodyOk = typeof parsed.choices?.[0]?.message?.content === 'string';
    } catch {
      firstBodyOk = false;
    }
  }
  const cpuUs = cpuAtEnd.user - cpuAtStart.user + (cpuAtEnd.system - cpuAtStart.system);
  return {
    id: spec.id,
    connections: spec.connections,
    durationS: windowS,
    sent: st.sent,
    completed: st.completed,
    windowCompleted: st.windowCompleted,
    rps: Math.round(st.windowOk / windowS),
    errors: Object.fromEntries(st.errors),
    errorCount: [...st.errors.values()].reduce((a, b) => a + b, 0),
    stuck: drainStuck,
    bytes: st.bytes,
    firstBodyOk,
    latencyMs: summarize(sorted),
    ...(st.bodies ? { beyondDelayMs: summarize(st.beyond.sorted()) } : {}),
    loadgenCpuPct: Math.round((cpuUs / 1000 / spec.durationMs) * 1000) / 10,
  };
}

/** `--delay-range-ms`: exits on anything but MIN-MAX. */
function delayRangeFlag(text: string): { min: number; max: number } {
  const range = parseDelayRange(text);
  if (range) return range;
  process.stderr.write(`load-generator: a delay range is MIN-MAX in ms, MIN <= MAX (got '${text}')\n`);
  process.exit(2);
}

function standalone(): void {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      connections: { type: 'string', default: '64' },
      'duration-s': { type: 'string', default: '10' },
      /** `MIN-MAX`: per-request delays asked of the mock's `/delay/body/` route (see PhaseSpec.delayRangeMs). */
      'delay-range-ms': { type: 'string' },
      'warmup-s': { type: 'string', default: '1' },
      header: { type: 'string', multiple: true, default: [] },
      body: { type: 'string', default: JSON.stringify({ model: 'bench', messages: [{ role: 'user', content: 'Hello!' }], max_tokens: 16 }) },
    },
    strict: true,
  });
  if (!values.url) {
    process.stderr.write('load-generator: --url is required when run by hand\n');
    process.exit(2);
  }
  const url = new URL(values.url);
  const headers: Record<string, string> = {};
  for (const h of values.header ?? []) {
    const i = h.indexOf(':');
    if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const spec: PhaseSpec = {
    id: 'standalone',
    origin: url.origin,
    path: `${url.pathname}${url.search}`,
    headers,
    body: values.body ?? '',
    stream: (values.body ?? '').includes('"stream":true'),
    connections: Math.max(1, Number(values.connections) || 1),
    warmupMs: Math.round(Number(values['warmup-s']) * 1000) || 0,
    durationMs: Math.round(Number(values['duration-s']) * 1000) || 1000,
    ...(values['delay-range-ms'] ? { delayRangeMs: delayRangeFlag(values['delay-range-ms']) } : {}),
  };
  runPhase(spec).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.exit(r.errorCount > 0 ? 1 : 0);
    },
    (err: unknown) => {
      process.stderr.write(`load-generator: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

if (!process.send) standalone();

let queue: Promise<void> = Promise.resolve();
process.on('message', (raw: unknown) => {
  const msg = raw as LoadgenRequest;
  if (msg.type === 'exit') {
    process.exit(0);
  }
  if (msg.type !== 'run') return;
  queue = queue.then(
    () =>
      runPhase(msg.spec).then(
        (result) => send({ type: 'result', id: msg.spec.id, result }),
        (err: unknown) => send({ type: 'error', id: msg.spec.id, message: err instanceof Error ? err.message : String(err) }),
      ),
    () => undefined,
  );
});
// Die with the orchestrator.
process.on('disconnect', () => process.exit(0));
if (process.send) send({ type: 'ready', pid: process.pid });
