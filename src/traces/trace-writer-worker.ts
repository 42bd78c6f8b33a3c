/** The writer thread's body (see `trace-writer-thread.ts`): opens the store, then batches, writes and retries the traces it is given. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { openStore } from '../store/index.js';
import type { RejectedTrace } from '../store/types.js';
import { currentThreadId, setThreadNice } from './thread-priority.js';
import { decodeTrace, type StorableTrace } from '../store/trace-columns.js';
import { BatchWriter } from './batch-writer.js';
import { PortQueue } from './port-queue.js';
import { BACKGROUND_NICE, WRITER_SQLITE_CACHE_MB, type WriterMessage, type WriterReply } from './trace-writer-thread.js';

const port = parentPort;
if (!port) throw new Error('trace-writer-worker must run as a worker thread');
const data = workerData as { storeUrl: string; traces: MessagePort };
const store = openStore(data.storeUrl, { sqliteCacheMb: WRITER_SQLITE_CACHE_MB });
const reply = (r: WriterReply): void => port.postMessage(r);
reply({ ready: true });

// The writer yields to the request thread: at a lower priority its long insert transactions
// no longer hold the CPU while a request waits (the thread that owns the writer raises it
// again if the queue builds up; see trace-writer-thread.ts).
const tid = currentThreadId();
if (tid !== undefined && setThreadNice(tid, BACKGROUND_NICE)) reply({ tid });

/** Decodes and stores one batch; a trace that does not decode is refused like a row the database refuses. */
async function write(batch: string[]): Promise<readonly RejectedTrace[]> {
  const records: StorableTrace[] = [];
  const undecodable: RejectedTrace[] = [];
  const positions: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    try {
      records.push(decodeTrace(batch[i]!));
      positions.push(i);
    } catch (err) {
      undecodable.push({ index: i, id: 'unknown', code: null, message: `undecodable trace: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  const { rejected } = await store.writeTraces(records);
  if (undecodable.length === 0) return rejected;
  return [...undecodable, ...rejected.map((r) => ({ ...r, index: positions[r.index] ?? r.index }))];
}

const queue = new PortQueue(data.traces);
let writer: BatchWriter<string> | undefined;
port.on('message', (m: WriterMessage) => {
  if ('sent' in m) {
    queue.announce(m.sent);
    writer?.arrived();
  } else if ('init' in m) writer = new BatchWriter(write, (s) => s.length, m.init, reply, queue);
  else if ('flush' in m) writer?.flush();
  else if ('stop' in m) writer?.stop();
  else {
    writer?.stop();
    void store.close().finally(() => process.exit(0));
  }
});
