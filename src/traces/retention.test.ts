import { expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { startRetention } from './retention.js';
import { TraceSink } from './trace-sink.js';
import { sampleTrace } from '../../test/helpers/sample-trace.js';

it('deletes traces older than the retention period and keeps the rest', async () => {
  const store = new SqliteStore(':memory:');
  const now = Date.UTC(2026, 10, 24);
  const sink = new TraceSink(store, { maxQueue: 1000, batchSize: 100, flushMs: 5, log: createLogger('silent') });
  for (const [i, ageDays] of [40, 31, 29, 1, 0].entries()) sink.push({ ...sampleTrace(i), started_at: now - ageDays * 86_400_000 - 1000 });
  await sink.drain();
  const job = startRetention(store, 30, createLogger('silent'));
  expect(await job.runOnce(now)).toBe(2);
  expect(await store.countTraces()).toBe(3);
  job.stop();
  const keepAll = startRetention(store, 0, createLogger('silent'));
  expect(await keepAll.runOnce(now + 365 * 86_400_000)).toBe(0);
});
