/**
 * The OTLP exporter: gateway calls, as GenAI spans, sent to a collector over OTLP/HTTP
 * (protobuf or JSON) in batches by a background loop. `offer()` is what the trace sink's
 * listener calls on the request path: it only appends to a bounded queue (past
 * `maxQueue`, spans are dropped and counted). Failed sends are retried with exponential
 * backoff (429, 502, 503, 504 and connection errors, honouring `Retry-After`, as the OTLP
 * spec asks); a batch that still fails is dropped and counted. `shutdown()` sends what is
 * left within a deadline.
 */
import { Agent, request } from 'undici';
import type { Logger } from '../logger.js';
import type { TraceRecord } from '../store/types.js';
import { decodeTraceResponse, encodeTraceRequest, type OtlpEncoding, type OtlpKeyValue } from './otlp-codec.js';
import { recordToSpan, type RecordSpanOptions } from './record-span.js';

export interface OtlpExporterOptions extends RecordSpanOptions {
  /** Full URL of the traces endpoint, e.g. http://collector:4318/v1/traces. */
  endpoint: string;
  headers: Record<string, string>;
  protocol: 'http/protobuf' | 'http/json';
  batchSize: number;
  flushMs: number;
  maxQueue: number;
  /** Per request; also the longest `shutdown()` waits by default. */
  timeoutMs: number;
  maxRetries: number;
  /** Resource attributes of every exported span (service.name, ...). */
  resource: OtlpKeyValue[];
  log: Logger;
  /** First retry delay; doubles per retry up to `maxBackoffMs`. */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
}

export interface ExporterStats {
  /** Spans waiting to be sent. */
  queued: number;
  /** Spans the collector accepted. */
  exported: number;
  /** Spans dropped because the queue was full (or left over at shutdown). */
  dropped: number;
  /** Spans in batches that failed for good (retries exhausted or a non-retryable answer). */
  failed: number;
  /** Spans the collector reported as rejected in a partial success. */
  rejected: number;
  /** Export requests that failed (each retry counts). */
  requestFailures: number;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

class ExportError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ExportError';
  }
}

function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * @example
 * const exporter = new OtlpTraceExporter({ endpoint: 'http://127.0.0.1:4318/v1/traces', ... });
 * sink.subscribe((t) => exporter.offer(t));
 * await exporter.shutdown();
 */
export class OtlpTraceExporter {
  readonly stats: ExporterStats = { queued: 0, exported: 0, dropped: 0, failed: 0, rejected: 0, requestFailures: 0 };
  private queue: TraceRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;
  private deadline = Number.POSITIVE_INFINITY;
  private lastDropLog = 0;
  /** Wakes a backoff sleep early (at shutdown). */
  private wake: (() => void) | undefined;
  private readonly agent: Agent;
  private readonly encoding: OtlpEncoding;
  private readonly contentType: string;

  constructor(private readonly opts: OtlpExporterOptions) {
    this.agent = new Agent({ keepAliveTimeout: 30_000, connections: 2 });
    this.encoding = opts.protocol === 'http/json' ? 'json' : 'protobuf';
    this.contentType = this.encoding === 'json' ? 'application/json' : 'application/x-protobuf';
  }

  /** Queues a gateway call for export; never blocks, never throws. Other sources (OTLP ingest) are not re-exported. */
  offer(t: TraceRecord): void {
    if (t.source !== 'gateway') return;
    if (this.closed || this.queue.length >= this.opts.maxQueue) {
      this.stats.dropped++;
      const now = Date.now();
      if (now - this.lastDropLog > 5000) {
        this.lastDropLog = now;
        this.opts.log.error('OTLP export queue full: spans are being dropped', { dropped_total: this.stats.dropped, max_queue: this.opts.maxQueue });
      }
      return;
    }
    this.queue.push(t);
    this.stats.queued = this.queue.length;
    this.schedule(this.queue.length >= this.opts.batchSize ? 0 : this.opts.flushMs);
  }

  private schedule(ms: number): void {
    if (this.closed || this.sending) return;
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sending = this.sendBatch().finally(() => {
        this.sending = undefined;
        if (this.queue.length > 0) this.schedule(this.queue.length >= this.opts.batchSize ? 0 : this.opts.flushMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** Sends one batch, retrying as the spec allows; never rejects. */
  private async sendBatch(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.batchSize);
    this.stats.queued = this.queue.length;
    if (batch.length === 0) return;
    let body: Buffer;
    try {
      body = encodeTraceRequest(
        { resource: this.opts.resource, scope: { name: 'llmops', version: '' }, spans: batch.map((t) => recordToSpan(t, this.opts)) },
        this.encoding,
      );
    } catch (err) {
      this.stats.failed += batch.length;
      this.opts.log.error('OTLP export: could not encode spans; batch dropped', { err, spans: batch.length });
      return;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        const rejected = await this.post(body);
        this.stats.exported += batch.length - rejected.count;
        if (rejected.count > 0) {
          this.stats.rejected += rejected.count;
          this.opts.log.warn('OTLP export: the collector rejected spans', { rejected: rejected.count, message: rejected.message });
        }
        return;
      } catch (err) {
        this.stats.requestFailures++;
        const e = err instanceof ExportError ? err : new ExportError((err as Error).message, true);
        const base = this.opts.backoffBaseMs ?? 500;
        const wait = e.retryAfterMs ?? Math.min(this.opts.maxBackoffMs ?? 30_000, base * 2 ** attempt) * (0.5 + Math.random() / 2);
        if (!e.retryable || attempt >= this.opts.maxRetries || Date.now() + wait >= this.deadline) {
          this.stats.failed += batch.length;
          this.opts.log.error('OTLP export failed; batch dropped', { err: e, spans: batch.length, attempts: attempt + 1, endpoint: this.opts.endpoint });
          return;
        }
        this.opts.log.debug('OTLP export failed; will retry', { err: e, retry_in_ms: Math.round(wait) });
        await this.sleep(wait);
      }
    }
  }

  /** Waits `ms`, or less when `shutdown()` wakes it. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wake = done;
    });
  }

  private async post(body: Buffer): Promise<{ count: number; message: string }> {
    const timeout = Math.max(1, Math.min(this.opts.timeoutMs, this.deadline - Date.now()));
    let res;
    try {
      res = await request(this.opts.endpoint, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { ...this.opts.headers, 'content-type': this.contentType },
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      throw new ExportError(`cannot reach the collector: ${(err as Error).message}`, true);
    }
    const bytes = new Uint8Array(await res.body.arrayBuffer().catch(() => new ArrayBuffer(0)));
    if (res.statusCode >= 200 && res.statusCode < 300) {
      try {
        const r = decodeTraceResponse(bytes, this.encoding);
        return { count: r.rejectedSpans, message: r.errorMessage };
      } catch {
        return { count: 0, message: '' };
      }
    }
    const text = Buffer.from(bytes).toString('utf8').slice(0, 200);
    throw new ExportError(`collector answered HTTP ${res.statusCode}: ${text}`, RETRYABLE.has(res.statusCode), retryAfterMs(res.headers['retry-after']));
  }

  /**
   * Sends everything queued (retrying within `timeoutMs`), then closes connections.
   * Resolves with the number of spans that could not be sent.
   */
  async shutdown(timeoutMs = this.opts.timeoutMs): Promise<number> {
    if (this.closed) return 0;
    this.closed = true;
    this.deadline = Date.now() + timeoutMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wake?.();
    if (this.sending) await this.sending;
    const before = this.stats.failed;
    while (this.queue.length > 0 && Date.now() < this.deadline) await this.sendBatch();
    const lost = this.queue.length + (this.stats.failed - before);
    this.stats.dropped += this.queue.length;
    this.queue = [];
    this.stats.queued = 0;
    if (lost > 0) this.opts.log.error('shutdown: spans could not be exported', { lost });
    await this.agent.close().catch(() => undefined);
    return lost;
  }
}
