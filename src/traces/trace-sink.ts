/**
 * The trace sink: a bounded in-memory queue drained in batches by a background writer, so
 * the request path never waits on the database. While the store fails, batches are kept
 * and retried with backoff; past `maxQueue` new traces are dropped, counted and logged,
 * never silently. `drain()` empties the queue on shutdown.
 *
 * For a writer thread, a trace is queued as one string (`encodeTrace`, in
 * `store/trace-columns.ts`), encoded once when pushed: one flat string per call is cheap for
 * the garbage collector to keep while it waits (the record's dozens of small objects would
 * be scanned) and crosses to the thread as a plain copy instead of a structured clone. A
 * store written on this thread gets the records.
 */
import type { Logger } from '../logger.js';
import { encodeTrace } from '../store/trace-columns.js';
import type { Store, TraceRecord } from '../store/types.js';

/** A writer thread in front of a store (`trace-writer-thread.ts`): takes traces as `encodeTrace` strings. */
export interface TraceWriter {
  /**
   * Stores a batch of traces, each a {@link TraceRecord} as `encodeTrace` wrote it. Resolves
   * with the number the store refused for good (poison rows: they are not retried); throws
   * when the whole batch should be retried later. `backlog`: traces still queued behind it.
   */
  writeEncoded(batch: readonly string[], backlog?: number): Promise<number>;
}

type StoreLike = Pick<Store, 'writeTraces'>;

export interface TraceSinkOptions {
  maxQueue: number;
  /** Bound on the queued traces' size (their encoded text; an estimate for records). Default: none. */
  maxQueueBytes?: number;
  batchSize: number;
  flushMs: number;
  log: Logger;
  /** Longest backoff between retries while the store fails. */
  maxBackoffMs?: number;
}

export interface TraceSinkStats {
  queued: number;
  /** Approximate bytes held by the queue (and the batch being written). */
  queuedBytes: number;
  written: number;
  dropped: number;
  /** Traces the store refused for good (a value it cannot hold), or that could not be encoded. */
  rejected: number;
  writeFailures: number;
}

export type TraceListener = (t: TraceRecord) => void;

export class TraceSink {
  /** Encoded traces for a writer thread, records for a store on this thread. */
  private queue: Array<string | TraceRecord> = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private backoffMs = 0;
  private closed = false;
  private lastDropLog = 0;
  private readonly listeners = new Set<TraceListener>();
  readonly stats: TraceSinkStats = { queued: 0, queuedBytes: 0, written: 0, dropped: 0, rejected: 0, writeFailures: 0 };
  private readonly thread: TraceWriter | undefined;
  private readonly store: StoreLike | undefined;

  /** `writer`: a writer thread ({@link TraceWriter}), or a store written to on this thread. */
  constructor(
    writer: TraceWriter | StoreLike,
    private readonly opts: TraceSinkOptions,
  ) {
    if ('writeEncoded' in writer) this.thread = writer;
    else this.store = writer;
  }

  /** Queues a trace; never blocks, never throws. */
  push(t: TraceRecord): void {
    for (const l of this.listeners) {
      try {
        l(t);
      } catch (err) {
        this.opts.log.warn('trace listener failed', { err });
      }
    }
    if (this.queue.length >= this.opts.maxQueue) {
      this.drop('count');
      return;
    }
    let queued: string | TraceRecord = t;
    if (this.thread) {
      try {
        queued = encodeTrace(t);
      } catch (err) {
        // A value JSON cannot hold (a BigInt in metadata, a cycle): the store could not keep it either.
        this.stats.rejected++;
        this.opts.log.error('trace could not be encoded and was not stored', { id: t.id, err });
        return;
      }
    }
    const size = sizeOf(queued);
    if (this.opts.maxQueueBytes !== undefined && this.stats.queuedBytes + size > this.opts.maxQueueBytes) {
      this.drop('bytes');
      return;
    }
    this.queue.push(queued);
    this.stats.queued = this.queue.length;
    this.stats.queuedBytes += size;
    this.schedule(this.queue.length >= this.opts.batchSize ? 0 : this.opts.flushMs);
  }

  /** Counts a trace the queue has no room for; logs at most every 5 s, saying which bound. */
  private drop(bound: 'count' | 'bytes'): void {
    this.stats.dropped++;
    const now = Date.now();
    if (now - this.lastDropLog > 5000) {
      this.lastDropLog = now;
      this.opts.log.error('trace queue full: traces are being dropped', {
        dropped_total: this.stats.dropped,
        ...(bound === 'count' ? { max_queue: this.opts.maxQueue } : { max_queue_bytes: this.opts.maxQueueBytes, queued_bytes: this.stats.queuedBytes }),
      });
    }
  }

  /** Calls `listener` with every trace as it is recorded (for `traces tail`). */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private schedule(ms: number): void {
    if (this.closed || this.writing) return;
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writeOnce().then(() => undefined).finally(() => {
        this.writing = undefined;
        if (this.queue.length > 0) this.schedule(this.backoffMs || (this.queue.length >= this.opts.batchSize ? 0 : this.opts.flushMs));
      });
    }, ms);
    this.timer.unref();
  }

  /** Writes one batch; on failure the batch goes back to the front of the queue. */
  private async writeOnce(): Promise<boolean> {
    const batch = this.queue.splice(0, this.opts.batchSize);
    if (batch.length === 0) return true;
    try {
      const rejected = await this.writeBatch(batch);
      this.stats.written += batch.length - rejected;
      this.stats.rejected += rejected;
      this.stats.queuedBytes -= sizeOfAll(batch);
      this.backoffMs = 0;
      return true;
    } catch (err) {
      this.queue.unshift(...batch);
      // Keep the bounds while failing: what no longer fits is dropped (newest first) and counted.
      if (this.queue.length > this.opts.maxQueue) {
        const over = this.queue.length - this.opts.maxQueue;
        this.stats.queuedBytes -= sizeOfAll(this.queue.slice(this.opts.maxQueue));
        this.queue.length = this.opts.maxQueue;
        this.stats.dropped += over;
      }
      this.stats.writeFailures++;
      this.backoffMs = Math.min(this.opts.maxBackoffMs ?? 5000, Math.max(100, this.backoffMs * 2));
      this.opts.log.error('trace write failed; will retry', { err, queued: this.queue.length, retry_in_ms: this.backoffMs });
      return false;
    } finally {
      this.stats.queued = this.queue.length;
    }
  }

  private async writeBatch(batch: Array<string | TraceRecord>): Promise<number> {
    if (this.thread) return this.thread.writeEncoded(batch as string[], this.queue.length);
    const { rejected } = await this.store!.writeTraces(batch as TraceRecord[]);
    if (rejected.length > 0) this.opts.log.error('store: traces refused by the database were skipped', { count: rejected.length, first: rejected[0] });
    return rejected.length;
  }

  /**
   * Writes everything queued, retrying failed writes until `timeoutMs` passes.
   * Resolves with the number of traces that could not be written (0 on success).
   */
  async drain(timeoutMs = 30_000): Promise<number> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing) await this.writing;
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 && Date.now() < deadline) {
      if (!(await this.writeOnce())) await new Promise((r) => setTimeout(r, Math.min(this.backoffMs, Math.max(0, deadline - Date.now()))));
    }
    const lost = this.queue.length;
    if (lost > 0) {
      this.stats.dropped += lost;
      this.stats.queuedBytes = 0;
      this.opts.log.error('shutdown: traces could not be written before the drain timeout', { lost });
    }
    return lost;
  }
}

/**
 * What a queued trace holds: its encoded text (one byte a character for the common one-byte
 * strings), or for a record on this thread its payload text and about 1 KB of fields.
 */
function sizeOf(q: string | TraceRecord): number {
  if (typeof q === 'string') return q.length;
  const text = (p: unknown): number => (typeof p === 'string' ? p.length : 0);
  return 1024 + text(q.input_payload) + text(q.output_payload);
}

function sizeOfAll(batch: ReadonlyArray<string | TraceRecord>): number {
  let n = 0;
  for (const q of batch) n += sizeOf(q);
  return n;
}
