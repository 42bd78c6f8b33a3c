/**
 * Runs trace inserts on a worker thread with its own store connection, so the
 * serialization and the database's own CPU (SQLite inserts are synchronous) stay off the
 * request path's event loop. The sink on the main thread keeps the queue, the retries and
 * the accounting; the thread only writes the batches it is given and says how it went.
 * Batches cross as arrays of JSON strings (see `trace-sink.ts`): copying strings is far
 * cheaper for the request thread than structured-cloning records.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import { setThreadNice } from './thread-priority.js';
import type { RejectedTrace } from '../store/types.js';
import type { TraceWriter } from './trace-sink.js';

/** The worker's answer to one batch. */
export interface WriterReply {
  id: number;
  ok: boolean;
  error?: string;
  /** Rows the store refused for good, and the first of them (for the log). */
  rejected?: number;
  firstRejected?: RejectedTrace;
}

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

export class TraceWriterThread implements TraceWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (rejected: number) => void; reject: (err: Error) => void }>();
  private failure: Error | undefined;
  /** The writer thread's id once it lowered its own priority (Linux). */
  private tid: number | undefined;
  private catchingUp = false;

  constructor(
    storeUrl: string,
    private readonly log?: Logger,
  ) {
    // A small young generation: the thread only holds the batch in flight, and a default-sized
    // one costs tens of MB of RSS for nothing.
    this.worker = new Worker(WORKER_FILE, { workerData: { storeUrl }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.worker.unref();
    this.worker.on('message', (m: WriterReply | { tid: number }) => {
      if ('tid' in m) {
        this.tid = m.tid;
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (!m.ok) {
        p.reject(new Error(m.error ?? 'trace write failed'));
        return;
      }
      const rejected = m.rejected ?? 0;
      if (rejected > 0) this.log?.error('store: traces refused by the database were skipped', { count: rejected, first: m.firstRejected });
      p.resolve(rejected);
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`trace writer thread exited (code ${code})`)));
  }

  writeEncoded(batch: readonly string[], backlog = 0): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    this.adjustPriority(backlog);
    const id = this.nextId++;
    return new Promise<number>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch });
    });
  }

  /**
   * Under sustained overload a background-priority writer would fall behind until the queue
   * overflows: past {@link CATCH_UP_BACKLOG} it competes at normal priority. Raising a nice
   * value back needs CAP_SYS_NICE; without it the writer keeps its share at nice 10 (about
   * a tenth of a busy core), which the queue bound and the drop counter then show.
   */
  private adjustPriority(backlog: number): void {
    if (this.tid === undefined) return;
    const catchUp = this.catchingUp ? backlog > BACKGROUND_BACKLOG : backlog > CATCH_UP_BACKLOG;
    if (catchUp === this.catchingUp) return;
    if (setThreadNice(this.tid, catchUp ? 0 : BACKGROUND_NICE)) this.catchingUp = catchUp;
    else if (catchUp) {
      this.log?.warn('trace writer cannot be raised to normal priority (needs CAP_SYS_NICE); it keeps its background share', { backlog });
      this.tid = undefined;
    }
  }

  async close(): Promise<void> {
    this.worker.postMessage({ close: true });
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        void this.worker.terminate().then(() => resolve());
      }, 5000);
      this.worker.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
