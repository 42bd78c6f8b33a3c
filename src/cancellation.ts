/**
 * A client's cancellation, cheaper than an AbortController per request: one flag, one
 * reason, and one listener at a time (the attempt in flight). The executor links it to
 * each attempt's own {@link AttemptAbort}, which is what reaches the upstream request.
 */
import { LlmopsError } from './errors.js';

/** A one-shot abort with a reason and one listener at a time (the attempt or request in flight). */
abstract class OneShotAbort<R> {
  aborted = false;
  reason: R | undefined;
  private listener: (() => void) | undefined;

  /** Calls `cb` once on abort (at once if already aborted); returns an unregister function. */
  protected listen(cb: () => void): () => void {
    if (this.aborted) {
      cb();
      return () => undefined;
    }
    this.listener = cb;
    return () => {
      if (this.listener === cb) this.listener = undefined;
    };
  }

  /** Aborts once: records the reason, runs `first` (if given), then the listener. False when already aborted. */
  protected fire(reason: R, first?: () => void): boolean {
    if (this.aborted) return false;
    this.aborted = true;
    this.reason = reason;
    first?.();
    const cb = this.listener;
    this.listener = undefined;
    cb?.();
    return true;
  }
}

export class Cancellation extends OneShotAbort<LlmopsError> {
  /** Calls `cb` once on cancellation (at once if already cancelled); returns an unregister function. */
  onCancel(cb: () => void): () => void {
    return this.listen(cb);
  }

  cancel(reason: LlmopsError = new LlmopsError('client_closed_request', 'the client closed the connection')): void {
    this.fire(reason);
  }

  /** Resolves after `ms`, or rejects with the reason when cancelled first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const off = this.onCancel(() => {
        clearTimeout(timer);
        reject(this.reason);
      });
      const timer = setTimeout(() => {
        off();
        resolve();
      }, ms);
    });
  }
}

/**
 * One upstream attempt's abort: the client going away, the attempt's timeout or the
 * provider's time-to-first-byte limit. Its {@link signal} (an AbortController's) is made
 * only when something asks for it (a streamed call, the demo provider's sleeps); a whole
 * answer is read with {@link onAbort}, which costs one callback instead of a controller,
 * its event target and listener bookkeeping on every call.
 */
export class AttemptAbort extends OneShotAbort<unknown> {
  private controller: AbortController | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    this.fire(reason, () => this.controller?.abort(reason));
  }

  /** Calls `cb` once on abort (at once if already aborted); one listener at a time. Returns an unregister function. */
  onAbort(cb: () => void): () => void {
    return this.listen(cb);
  }
}
