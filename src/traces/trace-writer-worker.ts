/** The writer thread's body (see `trace-writer-thread.ts`): opens the store and writes the batches it receives. */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import { currentThreadId, setThreadNice } from './thread-priority.js';
import { decodeTrace } from '../store/trace-columns.js';
import { BACKGROUND_NICE, type WriterReply } from './trace-writer-thread.js';

const port = parentPort;
if (!port) throw new Error('trace-writer-worker must run as a worker thread');
// The writer appends near the right-hand edge of each index: a modest page cache holds those.
const store = openStore((workerData as { storeUrl: string }).storeUrl, { sqliteCacheMb: 16 });
const reply = (r: WriterReply): void => port.postMessage(r);

// The writer yields to the request thread: at a lower priority its long insert transactions
// no longer hold the CPU while a request waits (the thread that owns the writer raises it
// again if the queue builds up; see trace-writer-thread.ts).
const tid = currentThreadId();
if (tid !== undefined && setThreadNice(tid, BACKGROUND_NICE)) port.postMessage({ tid });

port.on('message', (m: { id: number; batch: string[] } | { close: true }) => {
  if ('close' in m) {
    void store.close().finally(() => process.exit(0));
    return;
  }
  let records;
  try {
    records = m.batch.map(decodeTrace);
  } catch (err) {
    reply({ id: m.id, ok: false, error: `undecodable batch: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  store.writeTraces(records).then(
    ({ rejected }) => reply({ id: m.id, ok: true, rejected: rejected.length, ...(rejected[0] ? { firstRejected: rejected[0] } : {}) }),
    (err: unknown) => reply({ id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
