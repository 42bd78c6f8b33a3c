import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchWriter, type BatchReport } from './batch-writer.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A writer over a store that records its batches and fails while `down` is set. */
function setup(opts: { batchSize: number; flushMs: number }) {
  const batches: number[][] = [];
  const reports: BatchReport[] = [];
  const state = { down: false };
  const writer = new BatchWriter<number>(
    async (batch) => {
      if (state.down) throw new Error('store unavailable');
      batches.push([...batch]);
      return [];
    },
    () => 1,
    opts,
    (r) => void reports.push(r),
  );
  return { writer, batches, reports, state };
}

describe('BatchWriter', () => {
  it('writes what it holds flushMs after the first item arrived', async () => {
    const { writer, batches } = setup({ batchSize: 500, flushMs: 100 });
    writer.add([1]);
    await vi.advanceTimersByTimeAsync(60);
    writer.add([2]);
    await vi.advanceTimersByTimeAsync(39);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2]]);
  });

  it('writes a full batch at once, without waiting out the first item flushMs', async () => {
    const { writer, batches } = setup({ batchSize: 3, flushMs: 100 });
    writer.add([1]);
    await vi.advanceTimersByTimeAsync(10);
    writer.add([2, 3, 4, 5]);
    await vi.advanceTimersByTimeAsync(0);
    // Two full batches' worth went at once; the remainder waits for its own flushMs.
    expect(batches).toEqual([[1, 2, 3]]);
    writer.add([6]);
    await vi.advanceTimersByTimeAsync(0);
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    writer.add([7]);
    await vi.advanceTimersByTimeAsync(99);
    expect(batches).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches.at(-1)).toEqual([7]);
  });

  it('keeps its backoff while the store fails, however full the batch gets', async () => {
    const { writer, batches, reports, state } = setup({ batchSize: 2, flushMs: 10 });
    state.down = true;
    writer.add([1]);
    await vi.advanceTimersByTimeAsync(10);
    expect(reports).toEqual([{ kind: 'failed', error: 'store unavailable', held: 1, retryInMs: 100 }]);
    state.down = false;
    writer.add([2, 3]);
    await vi.advanceTimersByTimeAsync(99);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([[1, 2]]);
    // Back to normal: what remains waits its flushMs.
    await vi.advanceTimersByTimeAsync(10);
    expect(batches).toEqual([[1, 2], [3]]);
  });
});
