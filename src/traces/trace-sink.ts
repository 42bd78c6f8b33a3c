/**
 * The trace sink: takes every trace without ever blocking the request path, and hands it to
 * a background writer that batches, writes and retries it (`batch-writer.ts`). The sink
 * keeps the bounds and the books: past `maxQueue` traces (or `maxQueueBytes`) held and not
 * yet stored, new traces are dropped, counted and logged, never silently. `drain()` waits
 * for everything held on shutdown.
 *
 * For a writer thread, a trace is handed over as one string (`encodeTrace`, in
 * `store/trace-columns.ts`), encoded once when pushed, and the thread keeps it from then
 * on: the request thread holds it only until the next hand-over (milliseconds), so it dies
 * young instead of being promoted and collected by a full GC, and crosses to the thread as
 * a plain copy instead of a structured clone. A store written on this thread gets records.
 */
import type { Logger } from '../logger.js';
import { encodeTrace } from '../store/trace-columns.js';
import type { RejectedTrace, Store, TraceRecord } from '../store/types.js';
import { BatchWriter, type BatchReport, type BatchWriterOptions } from './batch-writer.js';

/**
 * Where the sink hands traces over; it owns them from then on and reports, through the
 * listener given to {@link TraceHandoff.start}, as they are stored or refused, as writes
 * fail, and (a writer thread that died) as they are lost.
 */
export interface TraceHandoff<T> {
  start(report: (r: HandoffReport) => void, opts: BatchWriterOptions): void;
  add(item: T, bytes: number): void;
  /** Writes whatever is held now instead of waiting for a full batch (shutdown). */
  flush(): void;
  /** Gives up on what is still held (after a drain timed out). */
  stop(): void;
}

export type HandoffReport = BatchReport | { kind: 'lost'; count: number; bytes: number; error: string };

/** A writer thread in front of a store (`trace-writer-thread.ts`): takes traces as `encodeTrace` strings. */
export type TraceWriter = TraceHandoff<string> & { readonly encoded: true };

type StoreLike = Pick<Store, 'writeTraces'>;

export interface TraceSinkOptions {
  maxQueue: number;
  /** Bound on the held traces' size (their encoded text; an estimate for records). Default: none. */
  maxQueueBytes?: number;
  batchSize: number;
  flushMs: number;
  log: Logger;
  /** Longest backoff between retries while the store fails. */
  maxBackoffMs?: number;
}

export interface TraceSinkStats {
  /** Traces handed to the writer and not yet stored (waiting, being written, or retried). */
  queued: number;
  /** Approximate bytes those traces hold. */
  queuedBytes: number;
  written: number;
  dropped: number;
  /** Traces the store refused for good (a value it cannot hold), or that could not be encoded. */
  rejected: number;
  writeFailures: number;
}

export interface TraceSinkHealth {
  queued: number;
  /** The queue's fill, 0 to 1: the larger of traces held over `maxQueue` and bytes held over `maxQueueBytes`. */
  fill: number;
  /** When the store started refusing writes (ms since the epoch), while it does. */
  failingSince: number | undefined;
}

export type TraceListener = (t: TraceRecord) => void;

/**
 * A hand-off that batches, writes and retries on this thread (a {@link BatchWriter} over
 * `write`): for a store given in-process, and for tests that stand in for the writer thread.
 */
export function batchHandoff<T>(write: (batch: T[]) => Promise<readonly RejectedTrace[]>, sizeOfItem: (item: T) => number): TraceHandoff<T> {
  let writer: BatchWriter<T> | undefined;
  return {
    start(report, opts) {
      writer = new BatchWriter<T>(write, sizeOfItem, opts, report);
    },
    add: (item) => writer?.add([item]),
    flush: () => writer?.flush(),
    stop: () => writer?.stop(),
  };
}

/** The writer for a store on this thread: the same batching and retries, with records. */
function inProcess(store: StoreLike): TraceHandoff<TraceRecord> {
  return batchHandoff<TraceRecord>(async (batch) => (await store.writeTraces(batch)).rejected, sizeOf);
}

export class TraceSink {
  private closed = false;
  private lastDropLog = 0;
  private readonly listeners = new Set<TraceListener>();
  private readonly settleWaiters = new Set<() => void>();
  readonly stats: TraceSinkStats = { queued: 0, queuedBytes: 0, written: 0, dropped: 0, rejected: 0, writeFailures: 0 };
  /** When writes started failing, while they fail. */
  private failingSince: number | undefined;
  private readonly thread: TraceWriter | undefined;
  private readonly local: TraceHandoff<TraceRecord> | undefined;
  /** Whichever of the two is in use, for what does not depend on the item type. */
  private readonly handoff: Omit<TraceHandoff<unknown>, 'add'>;

  /** `writer`: a writer thread ({@link TraceWriter}), or a store written to on this thread. */
  constructor(
    writer: TraceWriter | StoreLike,
    private readonly opts: TraceSinkOptions,
  ) {
    if ('encoded' in writer) this.handoff = this.thread = writer;
    else this.handoff = this.local = inProcess(writer);
    this.handoff.start((r) => this.onReport(r), { batchSize: opts.batchSize, flushMs: opts.flushMs, maxBackoffMs: opts.maxBackoffMs });
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
    if (this.stats.queued >= this.opts.maxQueue) {
      this.drop('count');
      return;
    }
    let encoded: string | undefined;
    if (this.thread) {
      try {
        encoded = encodeTrace(t);
      } catch (err) {
        // A value JSON cannot hold (a BigInt in metadata, a cycle): the store could not keep it either.
        this.stats.rejected++;
        this.opts.log.error('trace could not be encoded and was not stored', { id: t.id, err });
        return;
      }
    }
    const size = encoded === undefined ? sizeOf(t) : encoded.length;
    if (this.opts.maxQueueBytes !== undefined && this.stats.queuedBytes + size > this.opts.maxQueueBytes) {
      this.drop('bytes');
      return;
    }
    this.stats.queued++;
    this.stats.queuedBytes += size;
    if (encoded !== undefined) this.thread!.add(encoded, size);
    else this.local!.add(t, size);
    if (this.closed) this.handoff.flush();
  }

  private onReport(r: HandoffReport): void {
    if (r.kind === 'failed') {
      this.stats.writeFailures++;
      this.failingSince ??= Date.now();
      this.opts.log.error('trace write failed; will retry', { err: r.error, queued: this.stats.queued, retry_in_ms: r.retryInMs });
      return;
    }
    this.stats.queued -= r.count;
    this.stats.queuedBytes -= r.bytes;
    if (r.kind === 'lost') {
      this.stats.dropped += r.count;
      this.opts.log.error('trace writer failed: traces it held were lost', { lost: r.count, err: r.error });
    } else {
      this.stats.written += r.count - r.rejected;
      if (this.failingSince !== undefined) {
        // Say when a failing store (a full disk, a database that was down) takes traces again.
        this.opts.log.info('trace writes recovered', { failing_for_ms: Date.now() - this.failingSince, queued: this.stats.queued });
        this.failingSince = undefined;
      }
      this.stats.rejected += r.rejected;
      if (r.rejected > 0) this.opts.log.error('store: traces refused by the database were skipped', { count: r.rejected, first: r.firstRejected });
    }
    for (const w of this.settleWaiters) w();
    this.settleWaiters.clear();
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

  /**
   * How full the queue is (the larger of its count and byte fill, 0 to 1) and since when
   * writes have been failing (undefined while they work): for `/ready`.
   */
  health(): TraceSinkHealth {
    const byCount = this.stats.queued / this.opts.maxQueue;
    const byBytes = this.opts.maxQueueBytes === undefined ? 0 : this.stats.queuedBytes / this.opts.maxQueueBytes;
    return { queued: this.stats.queued, fill: Math.max(byCount, byBytes), failingSince: this.failingSince };
  }

  /** Calls `listener` with every trace as it is recorded (for `traces tail`). */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Writes everything queued, the writer retrying failed writes, until `timeoutMs` passes.
   * Resolves with the number of traces that could not be written (0 on success).
   */
  async drain(timeoutMs = 30_000): Promise<number> {
    this.closed = true;
    this.handoff.flush();
    const deadline = Date.now() + timeoutMs;
    while (this.stats.queued > 0 && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.max(0, deadline - Date.now()));
        function done(): void {
          clearTimeout(t);
          resolve();
        }
        this.settleWaiters.add(done);
      });
    }
    const lost = this.stats.queued;
    if (lost > 0) {
      this.handoff.stop();
      this.stats.dropped += lost;
      this.stats.queued = 0;
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
