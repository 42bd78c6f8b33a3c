/**
 * The retention job: deletes traces (and their feedback) older than `traces.retention_days`,
 * shortly after start and then every hour, in the background. 0 days keeps everything.
 */
import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';

const DAY_MS = 86_400_000;

export interface RetentionJob {
  /** Runs one pass now; resolves with the number of traces deleted. */
  runOnce(now?: number): Promise<number>;
  stop(): void;
}

export function startRetention(store: Store, days: number, log: Logger, opts: { firstRunMs?: number; everyMs?: number } = {}): RetentionJob {
  const runOnce = async (now = Date.now()): Promise<number> => {
    if (days <= 0) return 0;
    const deleted = await store.deleteTracesBefore(now - days * DAY_MS);
    if (deleted > 0) log.info('retention: deleted old traces', { deleted, older_than_days: days });
    return deleted;
  };
  const tick = (): void => {
    runOnce().catch((err: unknown) => log.warn('retention pass failed; will retry', { err }));
  };
  const timers: NodeJS.Timeout[] = [];
  if (days > 0) {
    const first = setTimeout(tick, opts.firstRunMs ?? 60_000);
    const every = setInterval(tick, opts.everyMs ?? 3_600_000);
    first.unref();
    every.unref();
    timers.push(first, every);
  }
  return {
    runOnce,
    stop: () => {
      for (const t of timers) clearTimeout(t);
    },
  };
}
