/**
 * Runs trace inserts on a worker thread with its own store connection, so the
 * serialization and the database's own CPU (SQLite inserts are synchronous) stay off the
 * request path's event loop. The sink on the main thread keeps the queue, the retries and
 * the accounting; the thread only writes the batches it is given and says how it went.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TraceRecord } from '../store/types.js';
import type { TraceWriter } from './trace-sink.js';

interface Reply {
  id: number;
  ok: boolean;
  error?: string;
}

const WORKER_FILE = fileURLToPath(new URL('./trace-writer-worker.js', import.meta.url));

/** Whether a writer thread can run here (the compiled worker exists, i.e. running from dist/). */
export function writerThreadAvailable(): boolean {
  return existsSync(WORKER_FILE);
}

export class TraceWriterThread implements TraceWriter {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private failure: Error | undefined;

  constructor(storeUrl: string) {
    // A small young generation: the thread only holds the batch in flight, and a default-sized
    // one costs tens of MB of RSS for nothing.
    this.worker = new Worker(WORKER_FILE, { workerData: { storeUrl }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve();
      else p.reject(new Error(m.error ?? 'trace write failed'));
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`trace writer thread exited (code ${code})`)));
  }

  insertTraces(batch: readonly TraceRecord[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, batch });
    });
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
