/**
 * Runs trace inserts on a worker thread with its own store connection, so the
 * serialization and the database's own CPU (SQLite inserts are synchronous) stay off the
 * request path's event loop. The thread owns the traces it is given: it batches, writes and
 * retries them (`batch-writer.ts`) and reports as they settle; the sink on the main thread
 * keeps the bounds and the accounting. Traces cross as arrays of JSON strings (see
 * `trace-sink.ts`), handed over every few milliseconds, so the request thread never holds
 * them long: copying strings is far cheaper for it than structured-cloning records, and a
 * string that dies young costs its garbage collector nothing. They go over a channel of
 * their own, whose queue the thread reads only as it writes each batch, so traces waiting
 * for the (background-priority) thread wait outside its heap. Traces go over once the thread
 * has opened its store; a thread that dies loses what it held (reported, never silent) and
 * is replaced after a backoff, while later traces wait here, within the sink's bounds.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { releaseYoungGenerationFlag } from '../node-flags.js';
import { setThreadNice } from './thread-priority.js';
import type { BatchReport, BatchWriterOptions } from './batch-writer.js';
import type { HandoffReport, TraceWriter } from './trace-sink.js';

/** What the main thread sends the writer thread. */
export type WriterMessage = { init: BatchWriterOptions } | { sent: number } | { flush: true } | { stop: true } | { close: true };
/** What the writer thread sends back: that its store is open, its thread id once (for priority), then reports. */
export type WriterReply = { ready: true } | { tid: number } | BatchReport;

/** Traces gathered on the main thread before they go over in one message, and the longest they wait. */
const HANDOFF_MAX = 512;
const HANDOFF_MS = 10;

/**
 * The writer thread's SQLite page cache: it appends near the right-hand edge of each index
 * and touches the current hour's rollup rows, which a small cache holds (every MB of it is
 * RSS once touched). `npm run bench:store` ingests with the same.
 */
export const WRITER_SQLITE_CACHE_MB = 4;

/** The writer thread's nice value while it keeps up (the request thread runs at 0). */
export const BACKGROUND_NICE = 10;
/**
 * Queued traces beyond which the writer runs at normal priority again, so it catches up
 * (and the queue's memory stays small), and below which it goes back to the background.
 */
const CATCH_UP_BACKLOG = 2_000;
const BACKGROUND_BACKLOG = 500;

const WORKER_FILE = fileURLToPath(new URL('./trace-writer-worker.js', import.meta.url));

/** Whether a writer thread can run here (the compiled worker exists, i.e. running from dist/). */
export function writerThreadAvailable(): boolean {
  return existsSync(WORKER_FILE);
}

export interface TraceWriterThreadOptions {
  log?: Logger | undefined;
  /** First wait before a thread that died is replaced; it doubles per death in a row (default 1 s). */
  restartMinMs?: number;
  /** Longest wait between replacements (default 30 s). */
  restartMaxMs?: number;
}

export class TraceWriterThread implements TraceWriter {
  readonly encoded = true as const;
  /** The live thread; undefined between a death and its replacement, and after close(). */
  private worker: Worker | undefined;
  /** The live thread's trace channel (this end). */
  private tracePort: MessagePort | undefined;
  /** The live thread opened its store: traces go over only then, so a thread that cannot start loses none. */
  private ready = false;
  private report: ((r: HandoffReport) => void) | undefined;
  private batchOpts: BatchWriterOptions | undefined;
  /** Traces gathered for the next message (or waiting for a replacement thread), and their size. */
  private outbox: string[] = [];
  private outboxBytes = 0;
  private handoffTimer: NodeJS.Timeout | undefined;
  /** Traces and bytes sent to the thread and not yet settled. */
  private held = 0;
  private heldBytes = 0;
  private closed = false;
  /** flush() was called (the sink is draining): a replacement thread is told too. */
  private flushing = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private restartDelayMs: number;
  private readonly restartMinMs: number;
  private readonly restartMaxMs: number;
  private readonly log: Logger | undefined;
  /** The writer thread's id once it lowered its own priority (Linux). */
  private tid: number | undefined;
  private catchingUp = false;

  constructor(
    private readonly storeUrl: string,
    opts: TraceWriterThreadOptions = {},
  ) {
    this.log = opts.log;
    this.restartMinMs = opts.restartMinMs ?? 1000;
    this.restartMaxMs = opts.restartMaxMs ?? 30_000;
    this.restartDelayMs = this.restartMinMs;
    this.spawn();
  }

  private spawn(): void {
    // A small young generation: the thread holds only the traces it has not written yet, and
    // a default-sized one costs tens of MB of RSS for nothing. 8 MB, not 4: with 4 a batch of
    // 200 fully captured traces outlived its semi-space often enough that the thread promoted
    // ~150 MB and ran ~20 full GCs per 6 s of cache hits (bimodal: small changes elsewhere
    // flipped it); with 8, 3-4 MB and none, at the same peak RSS (README, Performance). A size on node's command line
    // would override the one asked for here.
    releaseYoungGenerationFlag();
    // Traces go over their own channel, whose queue the thread reads only when it writes a
    // batch (`port-queue.ts`); the worker's own port carries the rest.
    const channel = new MessageChannel();
    const worker = new Worker(WORKER_FILE, {
      workerData: { storeUrl: this.storeUrl, traces: channel.port2 },
      transferList: [channel.port2],
      resourceLimits: { maxYoungGenerationSizeMb: 8 },
    });
    this.tracePort = channel.port1;
    this.tracePort.unref();
    this.worker = worker;
    this.ready = false;
    this.tid = undefined;
    this.catchingUp = false;
    worker.unref();
    worker.on('message', (m: WriterReply) => {
      if (worker !== this.worker) return;
      if ('ready' in m) {
        this.ready = true;
        this.send();
        if (this.flushing) this.post({ flush: true });
        return;
      }
      if ('tid' in m) {
        this.tid = m.tid;
        return;
      }
      if (m.kind === 'settled') {
        this.held -= m.count;
        this.heldBytes -= m.bytes;
        this.restartDelayMs = this.restartMinMs; // a thread that writes is healthy again
        this.adjustPriority();
      }
      this.report?.(m);
    });
    // Only the first of a thread's error and exit counts: died() forgets the thread.
    const fail = (err: Error): void => {
      if (worker === this.worker) this.died(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`trace writer thread exited (code ${code})`)));
    if (this.batchOpts) worker.postMessage({ init: this.batchOpts } satisfies WriterMessage);
  }

  /**
   * The thread is gone and the traces it held with it: they are reported lost. Later traces
   * wait here (within the sink's bounds) for a replacement, started after a backoff.
   */
  private died(err: Error): void {
    this.worker = undefined;
    this.ready = false;
    this.tracePort?.close();
    this.tracePort = undefined;
    this.lose(this.held, this.heldBytes, err);
    this.held = 0;
    this.heldBytes = 0;
    if (this.closed) return;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(this.restartMaxMs, delay * 2);
    this.log?.error('trace writer thread died; starting a new one', { err: err.message, restart_in_ms: delay, waiting: this.outbox.length });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closed) return;
      this.spawn();
    }, delay);
    this.restartTimer.unref();
  }

  start(report: (r: HandoffReport) => void, opts: BatchWriterOptions): void {
    this.report = report;
    this.batchOpts = opts;
    this.post({ init: opts });
  }

  add(item: string, bytes: number): void {
    this.outbox.push(item);
    this.outboxBytes += bytes;
    if (this.outbox.length >= HANDOFF_MAX) this.send();
    else if (!this.handoffTimer) {
      this.handoffTimer = setTimeout(() => this.send(), HANDOFF_MS);
      this.handoffTimer.unref();
    }
  }

  flush(): void {
    this.flushing = true;
    this.send();
    this.post({ flush: true });
  }

  stop(): void {
    this.post({ stop: true });
  }

  /** Sends the gathered traces to the thread, which owns them from here on (kept here while there is none). */
  private send(): void {
    if (this.handoffTimer) clearTimeout(this.handoffTimer);
    this.handoffTimer = undefined;
    if (this.outbox.length === 0 || !this.worker || !this.ready) return;
    const traces = this.outbox;
    this.held += traces.length;
    this.heldBytes += this.outboxBytes;
    this.outbox = [];
    this.outboxBytes = 0;
    // The traces first, then the note that they are there: each port's messages arrive in
    // order, and a message is in its port's queue once postMessage returns.
    this.tracePort!.postMessage(traces);
    this.post({ sent: traces.length });
    this.adjustPriority();
  }

  private post(m: WriterMessage): void {
    this.worker?.postMessage(m);
  }

  private lose(count: number, bytes: number, err: Error): void {
    if (count > 0) this.report?.({ kind: 'lost', count, bytes, error: err.message });
  }

  /**
   * Under sustained overload a background-priority writer would fall behind until the queue
   * overflows: past {@link CATCH_UP_BACKLOG} held traces it competes at normal priority.
   * Raising a nice value back needs CAP_SYS_NICE; without it the writer keeps its share at
   * nice 10 (about a tenth of a busy core), which the queue bound and the drop counter then show.
   */
  private adjustPriority(): void {
    if (this.tid === undefined) return;
    const catchUp = this.catchingUp ? this.held > BACKGROUND_BACKLOG : this.held > CATCH_UP_BACKLOG;
    if (catchUp === this.catchingUp) return;
    if (setThreadNice(this.tid, catchUp ? 0 : BACKGROUND_NICE)) this.catchingUp = catchUp;
    else if (catchUp) {
      this.log?.warn('trace writer cannot be raised to normal priority (needs CAP_SYS_NICE); it keeps its background share', { backlog: this.held });
      this.tid = undefined;
    }
  }

  /** Ends the thread (after the sink drained): it closes its store connection and exits. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const worker = this.worker;
    if (!worker) return;
    this.send();
    this.post({ close: true });
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        void worker.terminate().then(() => resolve());
      }, 5000);
      worker.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
