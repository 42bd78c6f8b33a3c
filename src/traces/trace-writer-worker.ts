/** The writer thread's body (see `trace-writer-thread.ts`): opens the store and writes the batches it receives. */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import type { TraceRecord } from '../store/types.js';

const port = parentPort;
if (!port) throw new Error('trace-writer-worker must run as a worker thread');
const store = openStore((workerData as { storeUrl: string }).storeUrl);

port.on('message', (m: { id: number; batch: TraceRecord[] } | { close: true }) => {
  if ('close' in m) {
    void store.close().finally(() => process.exit(0));
    return;
  }
  store.insertTraces(m.batch).then(
    () => port.postMessage({ id: m.id, ok: true }),
    (err: unknown) => port.postMessage({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
