/**
 * The part of the trace path that owns queued traces: it gathers them into batches (up to
 * `batchSize`, or whatever is there `flushMs` after the oldest arrived), writes one batch at
 * a time, and keeps a failed batch at the front to retry with backoff. Every outcome goes
 * to `report`: traces settled (stored, or refused for good) with their size, or a failed
 * attempt. It runs where the store connection is: on the writer thread for the gateway
 * (traces as `encodeTrace` strings), on the calling thread for a store given in-process.
 * Bounds are the sink's business (`trace-sink.ts`): it stops handing over traces while
 * too many are held here.
 */
import type { RejectedTrace } from '../store/types.js';

export type BatchReport =
  /** `count` traces left the queue: stored, or refused for good (`rejected` of them). */
  | { kind: 'settled'; count: number; rejected: number; bytes: number; firstRejected?: RejectedTrace | undefined }
  /** A batch could not be written; it is kept and retried after `retryInMs`. */
  | { kind: 'failed'; error: string; held: number; retryInMs: number };

export interface BatchWriterOptions {
  batchSize: number;
  flushMs: number;
  /** Longest backoff between retries while the store fails (default 5 s). */
  maxBackoffMs?: number | undefined;
}

/**
 * Where a {@link BatchWriter}'s items wait until they are written: an array by default; the
 * writer thread's waits outside the JS heap (`port-queue.ts`).
 */
export interface BatchQueue<T> {
  /** Items waiting. */
  readonly length: number;
  /** Removes and returns up to `n` items from the front. */
  take(n: number): T[];
  /** Puts a batch that failed back at the front. */
  putBack(items: T[]): void;
}

/** The default queue: items held in an array. */
export class ArrayQueue<T> implements BatchQueue<T> {
  private readonly items: T[] = [];
  get length(): number {
    return this.items.length;
  }
  push(items: readonly T[]): void {
    for (const t of items) this.items.push(t);
  }
  take(n: number): T[] {
    return this.items.splice(0, n);
  }
  putBack(items: T[]): void {
    this.items.unshift(...items);
  }
}

export class BatchWriter<T> {
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private flushing = false;
  private stopped = false;
  private backoffMs = 0;

  /**
   * @param write stores a batch; resolves with the rows refused for good (not retried), throws when the whole batch should be retried
   * @param sizeOf what one item holds, for the sink's byte bound
   * @param held where items wait; with a queue of its own, the caller fills it and calls {@link arrived}
   */
  constructor(
    private readonly write: (batch: T[]) => Promise<readonly RejectedTrace[]>,
    private readonly sizeOf: (item: T) => number,
    private readonly opts: BatchWriterOptions,
    private readonly report: (r: BatchReport) => void,
    private readonly held: BatchQueue<T> = new ArrayQueue<T>(),
  ) {}

  /** Queues items (with the default queue). */
  add(items: readonly T[]): void {
    const queue = this.held;
    if (!(queue instanceof ArrayQueue)) throw new Error('BatchWriter.add: this writer has a queue of its own');
    queue.push(items);
    this.arrived();
  }

  /** Items reached the queue: a full batch goes now, else when the first one waited flushMs. */
  arrived(): void {
    // A full batch does not wait out the timer its first item started (a failing store's
    // backoff timer stands).
    if (this.timer && this.backoffMs === 0 && this.held.length >= this.opts.batchSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
  }

  /** From now on writes whatever is held without waiting for a full batch (shutdown). */
  flush(): void {
    this.flushing = true;
    if (this.timer && this.backoffMs === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.schedule();
  }

  /** Stops writing; what is still held stays unwritten (the sink has counted it as lost). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped || this.writing || this.timer || this.held.length === 0) return;
    const ms = this.backoffMs || (this.flushing || this.held.length >= this.opts.batchSize ? 0 : this.opts.flushMs);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeOne();
    }, ms);
    this.timer.unref();
  }

  private async writeOne(): Promise<void> {
    if (this.stopped) return;
    const batch = this.held.take(this.opts.batchSize);
    if (batch.length === 0) return;
    this.writing = true;
    try {
      const rejected = await this.write(batch);
      this.backoffMs = 0;
      let bytes = 0;
      for (const t of batch) bytes += this.sizeOf(t);
      this.report({ kind: 'settled', count: batch.length, rejected: rejected.length, bytes, firstRejected: rejected[0] });
    } catch (err) {
      this.held.putBack(batch);
      this.backoffMs = Math.min(this.opts.maxBackoffMs ?? 5000, Math.max(100, this.backoffMs * 2));
      this.report({ kind: 'failed', error: err instanceof Error ? err.message : String(err), held: this.held.length, retryInMs: this.backoffMs });
    } finally {
      this.writing = false;
      this.schedule();
    }
  }
}
