/**
 * The human review queue's intake: after each call (a `record` finalizer) decides whether
 * it goes to review — a guard flagged it (or blocked it, when configured), or it falls in
 * the random sample — and buffers the item; a timer writes buffered items to the store in
 * the background, so the request path never waits on the database.
 */
import type { Logger } from '../../logger.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { ReviewItem, Store } from '../../store/types.js';
import type { GuardrailsConfig } from '../policy/schema.js';

const MAX_BUFFER = 10_000;

export class ReviewQueue {
  private buffer: ReviewItem[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Items dropped because the buffer was full (the store is down or slow). */
  dropped = 0;

  constructor(
    private readonly store: Store,
    private readonly cfg: GuardrailsConfig['review'],
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
    private readonly flushMs = 200,
  ) {}

  /** Decides on one finished call; never throws. */
  consider(ctx: RequestContext): void {
    if (ctx.request?.kind !== 'chat' || ctx.error?.code === 'client_closed_request') return;
    const decisions = ctx.guardrails?.decisions ?? [];
    const fired = decisions.filter((d) => d.verdict !== 'pass');
    const blocked = ctx.error?.code === 'guardrail_blocked';
    let reason: ReviewItem['reason'] | undefined;
    if (blocked && this.cfg.blocked) reason = 'blocked';
    else if (!blocked && this.cfg.flagged && fired.some((d) => d.verdict === 'flag')) reason = 'flagged';
    else if (!blocked && this.cfg.sample_rate > 0 && this.random() < this.cfg.sample_rate) reason = 'sampled';
    if (!reason) return;
    if (this.buffer.length >= MAX_BUFFER) {
      this.dropped++;
      return;
    }
    this.buffer.push({
      id: `rv_${ctx.callId}`,
      trace_id: ctx.traceId,
      call_id: ctx.callId,
      reason,
      guards: fired.length ? [...new Set(fired.map((d) => d.guard))] : null,
      model: ctx.requestedModel,
      created_at: ctx.startedAt,
      status: 'open',
      claimed_by: null,
      claimed_at: null,
      label: null,
      category: null,
      note: null,
      labeled_by: null,
      labeled_at: null,
    });
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  /** Writes what is buffered; on failure the items go back to the buffer for the next try. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      clearTimeout(this.timer);
      this.timer = undefined;
      const batch = this.buffer;
      if (batch.length === 0) return;
      this.buffer = [];
      try {
        await this.store.addReviewItems(batch);
      } catch (err) {
        this.log.warn('review queue write failed; will retry', { count: batch.length, err });
        this.buffer = batch.concat(this.buffer).slice(0, MAX_BUFFER);
        this.timer ??= setTimeout(() => void this.flush(), 5000).unref();
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
