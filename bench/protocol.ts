/**
 * The IPC messages between `gateway-bench` (the orchestrator) and `load-generator`, and
 * the shape of one measured phase's result.
 */

export interface PhaseSpec {
  /** Unique per phase; echoed in marks and results. */
  id: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** The JSON request body, sent as is. */
  body: string;
  /** Whether the body asks for a stream (changes how the first answer is checked). */
  stream: boolean;
  /** Keep-alive connections, each with one request in flight. */
  connections: number;
  /** Discarded lead-in at the same concurrency. */
  warmupMs: number;
  /** The measured window. */
  durationMs: number;
  /**
   * Each request asks the mock (its `/delay/body/` route) to wait a time drawn uniformly from
   * this range, written into the last message as `[mock-delay-ms N]`; the result then also
   * has {@link PhaseResult.beyondDelayMs}, and an answer without the mock's held time counts
   * as an error.
   */
  delayRangeMs?: { min: number; max: number };
}

/** `MIN-MAX` (ms, MIN <= MAX) as a {@link PhaseSpec.delayRangeMs}; undefined when it is not one. */
export function parseDelayRange(text: string): { min: number; max: number } | undefined {
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(text);
  if (!m || Number(m[2]) < Number(m[1])) return undefined;
  return { min: Number(m[1]), max: Number(m[2]) };
}

export interface LatencySummary {
  samples: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface PhaseResult {
  id: string;
  connections: number;
  durationS: number;
  /** Requests sent over the whole phase, warm-up included. */
  sent: number;
  /** Answers (or errors) received over the whole phase, warm-up included. */
  completed: number;
  /** Answers received inside the measured window. */
  windowCompleted: number;
  /** HTTP 200 answers per second inside the measured window. */
  rps: number;
  /** Non-200 statuses (`http_503`) and transport errors (`error_ECONNRESET`), over the whole phase. */
  errors: Record<string, number>;
  errorCount: number;
  /** Requests still unanswered 30 s after the phase ended (their connections were destroyed). */
  stuck: number;
  bytes: number;
  /** The first answer of the phase parsed as a chat completion (or a complete SSE stream). */
  firstBodyOk: boolean;
  /** Latency of requests started inside the measured window, in ms. */
  latencyMs: LatencySummary;
  /** With `delayRangeMs`: each of those requests' latency minus the time the mock held it (which its answer's id gives). */
  beyondDelayMs?: LatencySummary;
  /** The load generator's own CPU over the measured window, in % of one core. */
  loadgenCpuPct: number;
}

export type LoadgenRequest = { type: 'run'; spec: PhaseSpec } | { type: 'exit' };

export type LoadgenResponse =
  | { type: 'ready'; pid: number }
  | { type: 'mark'; id: string; mark: 'measure-start' | 'measure-end' }
  | { type: 'result'; id: string; result: PhaseResult }
  | { type: 'error'; id: string; message: string };
