/**
 * A client's cancellation, cheaper than an AbortController per request: one flag, one
 * reason, and one listener at a time (the attempt in flight). The executor links it to
 * each attempt's own AbortController, which is what reaches the upstream request.
 */
import { LlmopsError } from './errors.js';

export class Cancellation {
  aborted = false;
  reason: LlmopsError | undefined;
  private listener: (() => void) | undefined;

  /** Calls `cb` once on cancellation (at once if already cancelled); returns an unregister function. */
  onCancel(cb: () => void): () => void {
    if (this.aborted) {
      cb();
      return () => undefined;
    }
    this.listener = cb;
    return () => {
      if (this.listener === cb) this.listener = undefined;
    };
  }

  cancel(reason: LlmopsError = new LlmopsError('client_closed_request', 'the client closed the connection')): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const cb = this.listener;
    this.listener = undefined;
    cb?.();
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
export class AttemptAbort {
  aborted = false;
  reason: unknown;
  private controller: AbortController | undefined;
  private listener: (() => void) | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const cb = this.listener;
    this.listener = undefined;
    cb?.();
  }

  /** Calls `cb` once on abort (at once if already aborted); one listener at a time. Returns an unregister function. */
  onAbort(cb: () => void): () => void {
    if (this.aborted) {
      cb();
      return () => undefined;
    }
    this.listener = cb;
    return () => {
      if (this.listener === cb) this.listener = undefined;
    };
  }
}
