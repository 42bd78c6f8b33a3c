import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/types.js';
import { sampleTrace } from '../../test/helpers/sample-trace.js';
import { decodeTrace, encodeTrace, JsonText, traceToRow } from '../store/trace-columns.js';
import { batchHandoff, TraceSink, type TraceWriter } from './trace-sink.js';

const trace = sampleTrace;

/** A store that fails while `down` is true. */
function flaky(inner: Store): Store & { down: boolean } {
  const s = Object.create(inner) as Store & { down: boolean };
  s.down = true;
  s.writeTraces = async (batch) => {
    if (s.down) throw new Error('store unavailable');
    return inner.writeTraces(batch);
  };
  return s;
}

/**
 * A writer thread without the thread: the same batching and retries as the worker's, on
 * this thread, over `write` (which gets the encoded strings and says how many it refused).
 */
function fakeThread(write: (batch: readonly string[]) => Promise<number>): TraceWriter {
  const handoff = batchHandoff<string>(async (batch) => {
    const refused = await write(batch);
    return batch.slice(0, refused).map((s, index) => ({ index, id: 'x', code: null, message: 'refused' }));
  }, (s) => s.length);
  return { ...handoff, encoded: true };
}

/** The writer thread as the gateway runs it: the compiled file in dist/ (`npm test` builds first). */
const loadThread = async () =>
  (await import(pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'traces', 'trace-writer-thread.js')).href)) as typeof import('./trace-writer-thread.js');

/** What a query returns from a SQLite file, opened read-only for it. */
function storedRows(file: string, sql: string): unknown[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

describe('trace sink', () => {
  it('writes in batches in the background and round-trips every field', async () => {
    const store = new SqliteStore(':memory:');
    const sink = new TraceSink(store, { maxQueue: 10_000, batchSize: 100, flushMs: 5, log: createLogger('silent') });
    for (let i = 0; i < 250; i++) sink.push(trace(i));
    expect(sink.stats.written).toBe(0); // push never waits on the store
    await expect.poll(() => store.countTraces()).toBe(250);
    expect(await store.getTrace('call-7')).toEqual(trace(7));
  });

  it('holds traces while the store is down, retries, and loses none', async () => {
    const lines: string[] = [];
    const store = flaky(new SqliteStore(':memory:'));
    const sink = new TraceSink(store, { maxQueue: 1000, batchSize: 50, flushMs: 5, maxBackoffMs: 20, log: createLogger('info', (l) => void lines.push(l)) });
    for (let i = 0; i < 300; i++) sink.push(trace(i));
    await expect.poll(() => sink.stats.writeFailures).toBeGreaterThan(1);
    expect(sink.stats.queued).toBe(300);
    expect(lines.some((l) => l.includes('trace writes recovered'))).toBe(false);
    store.down = false;
    await expect.poll(() => store.countTraces()).toBe(300);
    expect(sink.stats.dropped).toBe(0);
    expect(lines.some((l) => l.includes('trace write failed; will retry'))).toBe(true);
    // The first write that works again says so, once.
    expect(lines.filter((l) => l.includes('"msg":"trace writes recovered"'))).toHaveLength(1);
  });

  it('bounds the queue in bytes too: large payloads are dropped and counted before they fill the heap', async () => {
    const lines: string[] = [];
    const got: string[] = [];
    let down = true;
    const thread = fakeThread(async (batch) => {
      if (down) throw new Error('store unavailable');
      got.push(...batch);
      return 0;
    });
    const sink = new TraceSink(thread, { maxQueue: 10_000, maxQueueBytes: 1_000_000, batchSize: 10, flushMs: 5, maxBackoffMs: 20, log: createLogger('error', (l) => void lines.push(l)) });
    const big = (i: number) => ({ ...trace(i), input_payload: JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }) });
    for (let i = 0; i < 30; i++) sink.push(big(i));
    // About 100 KB each: nine fit under 1 MB, the rest are dropped and counted, well below the count bound.
    expect(sink.stats.queued).toBe(9);
    expect(sink.stats.dropped).toBe(21);
    expect(sink.stats.queuedBytes).toBeLessThanOrEqual(1_000_000);
    expect(sink.stats.queuedBytes).toBeGreaterThan(900_000);
    expect(lines.some((l) => l.includes('trace queue full') && l.includes('max_queue_bytes'))).toBe(true);
    await expect.poll(() => sink.stats.writeFailures).toBeGreaterThan(1);
    expect(sink.stats.queuedBytes).toBeGreaterThan(900_000); // a failed batch still holds its bytes
    down = false;
    expect(await sink.drain(2000)).toBe(0);
    expect(got).toHaveLength(9);
    expect(sink.stats.queuedBytes).toBe(0);
    // Once written, the room is there again.
    sink.push(big(99));
    expect(sink.stats.dropped).toBe(21);
  });

  it('counts and logs what overflows a full queue, never silently', async () => {
    const lines: string[] = [];
    const store = flaky(new SqliteStore(':memory:'));
    const sink = new TraceSink(store, { maxQueue: 100, batchSize: 10, flushMs: 5, maxBackoffMs: 20, log: createLogger('error', (l) => void lines.push(l)) });
    for (let i = 0; i < 130; i++) sink.push(trace(i));
    expect(sink.stats.dropped).toBe(30);
    expect(lines.some((l) => l.includes('trace queue full'))).toBe(true);
    store.down = false;
    expect(await sink.drain(2000)).toBe(0);
    expect(await store.countTraces()).toBe(100);
  });

  it('stores the rest of a batch when the store refuses a row, and counts the refused one', async () => {
    const lines: string[] = [];
    const store = new SqliteStore(':memory:');
    const sink = new TraceSink(store, { maxQueue: 1000, batchSize: 100, flushMs: 5, log: createLogger('error', (l) => void lines.push(l)) });
    sink.push(trace(1));
    sink.push({ ...trace(2), kind: null as unknown as 'llm' }); // NOT NULL column
    sink.push(trace(3));
    sink.push({ ...trace(4), metadata: { n: 1n } }); // JSON cannot encode a BigInt
    expect(await sink.drain()).toBe(0);
    expect(await store.countTraces()).toBe(2);
    expect(sink.stats).toMatchObject({ written: 2, rejected: 2, dropped: 0 });
    expect(lines.some((l) => l.includes('refused by the database'))).toBe(true);
  });

  it('queues encoded traces for a writer thread; a trace JSON cannot encode is counted as rejected', async () => {
    const lines: string[] = [];
    const got: string[] = [];
    const thread = fakeThread(async (batch) => (got.push(...batch), 0));
    const sink = new TraceSink(thread, { maxQueue: 100, batchSize: 10, flushMs: 5, log: createLogger('error', (l) => void lines.push(l)) });
    sink.push(trace(1));
    sink.push({ ...trace(2), metadata: { n: 2n } });
    expect(await sink.drain()).toBe(0);
    expect(got.map((s) => traceToRow(decodeTrace(s), true))).toEqual([traceToRow(trace(1), true)]);
    expect(sink.stats).toMatchObject({ written: 1, rejected: 1 });
    expect(lines.some((l) => l.includes('could not be encoded'))).toBe(true);
  });

  it('drain() writes everything queued before resolving', async () => {
    const store = new SqliteStore(':memory:');
    const sink = new TraceSink(store, { maxQueue: 100_000, batchSize: 1000, flushMs: 10_000, log: createLogger('silent') });
    for (let i = 0; i < 5000; i++) sink.push(trace(i));
    expect(await sink.drain()).toBe(0);
    expect(await store.countTraces()).toBe(5000);
  });
});

describe('trace sink with the writer thread', () => {
  it('a writer thread that dies loses only what it held, counted and logged, and is replaced: later traces are stored', async () => {
    const { TraceWriterThread } = await loadThread();
    const dir = mkdtempSync(join(tmpdir(), 'llmops-writer-'));
    try {
      const lines: string[] = [];
      const log = createLogger('error', (l) => void lines.push(l));
      const writer = new TraceWriterThread(`sqlite:${join(dir, 'w.db')}`, { log, restartMinMs: 50 });
      // A long flush interval: the thread holds what it is given.
      const sink = new TraceSink(writer, { maxQueue: 1000, batchSize: 1000, flushMs: 60_000, log });
      for (let i = 0; i < 5; i++) sink.push(trace(i));
      const internals = writer as unknown as { held: number; worker: { terminate(): Promise<number> } };
      await expect.poll(() => internals.held).toBe(5); // handed over once the thread opened its store
      await internals.worker.terminate();
      await expect.poll(() => sink.stats.dropped).toBe(5);
      expect(sink.stats).toMatchObject({ queued: 0, queuedBytes: 0, written: 0 });
      expect(lines.some((l) => l.includes('traces it held were lost') && l.includes('"lost":5'))).toBe(true);
      expect(lines.some((l) => l.includes('trace writer thread died; starting a new one'))).toBe(true);
      // Pushed while there is no thread: they wait for the replacement instead of being dropped.
      for (let i = 10; i < 13; i++) sink.push(trace(i));
      expect(sink.stats).toMatchObject({ queued: 3, dropped: 5 });
      expect(await sink.drain()).toBe(0);
      expect(sink.stats).toMatchObject({ queued: 0, written: 3, dropped: 5 });
      await writer.close();
      expect(storedRows(join(dir, 'w.db'), 'SELECT id FROM traces ORDER BY id')).toEqual([10, 11, 12].map((i) => ({ id: trace(i).id })));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a writer thread that cannot start is retried with a growing, capped backoff while the queue bound holds', async () => {
    const { TraceWriterThread } = await loadThread();
    const dir = mkdtempSync(join(tmpdir(), 'llmops-writer-'));
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    try {
      const lines: string[] = [];
      const log = createLogger('error', (l) => void lines.push(l));
      // A store the thread cannot open: its directory would be inside a file.
      const writer = new TraceWriterThread(`sqlite:${join(file, 'w.db')}`, { log, restartMinMs: 20, restartMaxMs: 80 });
      const sink = new TraceSink(writer, { maxQueue: 10, batchSize: 1000, flushMs: 10, log });
      for (let i = 0; i < 15; i++) sink.push(trace(i));
      expect(sink.stats).toMatchObject({ queued: 10, dropped: 5 });
      const delays = (): number[] =>
        lines.filter((l) => l.includes('trace writer thread died')).map((l) => (JSON.parse(l) as { restart_in_ms: number }).restart_in_ms);
      await expect.poll(delays, { timeout: 5000 }).toHaveLength(5);
      expect(delays().slice(0, 5)).toEqual([20, 40, 80, 80, 80]);
      expect(lines.find((l) => l.includes('trace writer thread died'))).toMatch(/ENOTDIR|EEXIST|exited/);
      // Still nothing written and nothing more lost than the bound refused.
      expect(sink.stats).toMatchObject({ queued: 10, dropped: 5, written: 0 });
      expect(await sink.drain(50)).toBe(10);
      expect(sink.stats).toMatchObject({ queued: 0, dropped: 15 });
      await writer.close();
      const before = delays().length;
      await new Promise((r) => setTimeout(r, 200));
      expect(delays()).toHaveLength(before); // closed: no more replacements
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the thread batches what it is given: one write for many hand-overs, all stored by drain()', async () => {
    const { TraceWriterThread } = await loadThread();
    const dir = mkdtempSync(join(tmpdir(), 'llmops-writer-'));
    try {
      const writer = new TraceWriterThread(`sqlite:${join(dir, 'w.db')}`);
      const sink = new TraceSink(writer, { maxQueue: 10_000, batchSize: 5000, flushMs: 60_000, log: createLogger('silent') });
      for (let i = 0; i < 3000; i++) {
        sink.push(trace(i));
        if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 30)); // three hand-overs at least
      }
      await new Promise((r) => setTimeout(r, 50));
      // Below a batch and before the flush interval, nothing is written yet: the thread holds it all.
      expect(sink.stats).toMatchObject({ queued: 3000, written: 0 });
      expect(await sink.drain()).toBe(0);
      expect(sink.stats).toMatchObject({ queued: 0, queuedBytes: 0, written: 3000 });
      await writer.close();
      expect(storedRows(join(dir, 'w.db'), 'SELECT count(*) AS n FROM traces')).toEqual([{ n: 3000 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('trace encoding for the writer thread', () => {
  const withText = { ...trace(1), input_payload: '{"messages":[{"role":"user","content":"a\\nb \\"q\\""}]}\n', output_payload: '{"choices":[]}' };
  const withObjects = { ...trace(2), input_payload: { messages: [] }, output_payload: [1, 2], metadata: { team: 'a\u0000b', n: 1 }, guardrails: [] };
  const without = { ...trace(3), input_payload: null, output_payload: null, request_params: null, usage: null, cost: null, cost_usd: null, attempts: [] };
  const oddText = { ...trace(4), input_payload: 'not json \u0000 with a NUL', output_payload: '', user_id: 'u\u0000\u0001"x"', error_message: 'line\nbreak' };

  it('gives the store the same row as the record itself, for every kind of value', () => {
    for (const t of [withText, withObjects, without, oddText]) {
      for (const boolAsInt of [true, false]) expect(traceToRow(decodeTrace(encodeTrace(t)), boolAsInt)).toEqual(traceToRow(t, boolAsInt));
    }
  });

  it('carries JSON columns as text: not escaped a second time, not parsed on the other side', () => {
    const encoded = encodeTrace(withText);
    expect(encoded).toContain(withText.input_payload);
    const decoded = decodeTrace(encoded);
    expect(decoded.input_payload).toEqual(new JsonText(withText.input_payload));
    expect(decoded.request_params).toEqual(new JsonText('{"temperature":0.2}'));
    expect(decoded.user_id).toBeNull();
    // A text payload that is not JSON and holds a NUL cannot travel after a separator: the record goes whole.
    expect(decodeTrace(encodeTrace(oddText))).toEqual(JSON.parse(JSON.stringify(oddText)));
  });

  it('stores through a writer thread exactly what a store on this thread stores', async () => {
    const { TraceWriterThread } = await loadThread();
    const dir = mkdtempSync(join(tmpdir(), 'llmops-writer-'));
    try {
      const url = `sqlite:${join(dir, 'w.db')}`;
      const writer = new TraceWriterThread(url);
      const sink = new TraceSink(writer, { maxQueue: 1000, batchSize: 10, flushMs: 5, log: createLogger('silent') });
      const sent = [withText, withObjects, without, oddText, trace(5)];
      for (const t of sent) sink.push(t);
      expect(await sink.drain()).toBe(0);
      await writer.close();
      const direct = new SqliteStore(join(dir, 'direct.db'));
      await direct.writeTraces(sent);
      await direct.close();
      // Row for row, byte for byte (a payload that is not JSON text is stored too, though reads cannot parse it).
      const rows = (file: string): unknown[] => storedRows(join(dir, file), 'SELECT * FROM traces ORDER BY id');
      expect(rows('w.db')).toHaveLength(sent.length);
      expect(rows('w.db')).toEqual(rows('direct.db'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
