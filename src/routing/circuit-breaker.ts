/**
 * A circuit breaker per target. Closed: calls flow. Open (after `failure_threshold`
 * consecutive failures, or an error rate over the window at or above the threshold once
 * `min_requests` were seen): calls are skipped until `cooldown_ms` passes. Half-open: one
 * probe is let through; its success closes the circuit, its failure opens it again.
 */
export interface CircuitBreakerOptions {
  failure_threshold: number;
  error_rate_threshold: number;
  min_requests: number;
  window_ms: number;
  cooldown_ms: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

const BUCKETS = 10;

class Circuit {
  state: CircuitState = 'closed';
  consecutive = 0;
  openedAt = 0;
  probing = false;
  /** Outcome counts per time bucket: [ok, fail] for bucket start times in `starts`. */
  readonly ok = new Array<number>(BUCKETS).fill(0);
  readonly fail = new Array<number>(BUCKETS).fill(0);
  readonly starts = new Array<number>(BUCKETS).fill(0);
}

export class CircuitBreaker {
  private readonly circuits = new Map<string, Circuit>();
  private bucketMs: number;

  constructor(private opts: CircuitBreakerOptions) {
    this.bucketMs = Math.max(1, Math.floor(opts.window_ms / BUCKETS));
  }

  /** New thresholds (a config reload); each target's state and counts carry over. */
  configure(opts: CircuitBreakerOptions): void {
    this.opts = opts;
    this.bucketMs = Math.max(1, Math.floor(opts.window_ms / BUCKETS));
  }

  /**
   * Closes and forgets the circuits of one provider's targets (`provider/…`): a reload
   * changed that provider (its URL, its key), so what its old endpoint did says nothing.
   */
  forgetProvider(provider: string): void {
    for (const key of this.circuits.keys()) if (key.startsWith(`${provider}/`)) this.circuits.delete(key);
  }

  private circuit(key: string): Circuit {
    let c = this.circuits.get(key);
    if (!c) {
      c = new Circuit();
      this.circuits.set(key, c);
    }
    return c;
  }

  state(key: string, now = Date.now()): CircuitState {
    const c = this.circuits.get(key);
    if (!c) return 'closed';
    if (c.state === 'open' && now - c.openedAt >= this.opts.cooldown_ms) return 'half_open';
    return c.state;
  }

  /**
   * May a call go to `key` now? Moving an open circuit past its cooldown to half-open
   * reserves the single probe for the caller, who must then report the outcome.
   */
  tryAcquire(key: string, now = Date.now()): boolean {
    const c = this.circuits.get(key);
    if (!c || c.state === 'closed') return true;
    if (c.state === 'open') {
      if (now - c.openedAt < this.opts.cooldown_ms) return false;
      c.state = 'half_open';
      c.probing = false;
    }
    if (c.probing) return false;
    c.probing = true;
    return true;
  }

  onSuccess(key: string, now = Date.now()): void {
    const c = this.circuit(key);
    this.count(c, now, true);
    c.consecutive = 0;
    if (c.state !== 'closed') {
      c.state = 'closed';
      c.probing = false;
      c.ok.fill(0);
      c.fail.fill(0);
    }
  }

  onFailure(key: string, now = Date.now()): void {
    const c = this.circuit(key);
    this.count(c, now, false);
    c.consecutive++;
    if (c.state === 'half_open') {
      this.open(c, now);
      return;
    }
    if (c.state !== 'closed') return;
    if (c.consecutive >= this.opts.failure_threshold) {
      this.open(c, now);
      return;
    }
    let ok = 0;
    let fail = 0;
    const from = now - this.opts.window_ms;
    for (let i = 0; i < BUCKETS; i++) {
      if (c.starts[i]! > from) {
        ok += c.ok[i]!;
        fail += c.fail[i]!;
      }
    }
    if (ok + fail >= this.opts.min_requests && fail / (ok + fail) >= this.opts.error_rate_threshold) this.open(c, now);
  }

  /** The call ended with no verdict on the target's health (e.g. the client left): free the probe. */
  release(key: string): void {
    const c = this.circuits.get(key);
    if (c) c.probing = false;
  }

  private open(c: Circuit, now: number): void {
    c.state = 'open';
    c.openedAt = now;
    c.probing = false;
  }

  private count(c: Circuit, now: number, ok: boolean): void {
    const start = now - (now % this.bucketMs);
    const i = Math.floor(start / this.bucketMs) % BUCKETS;
    if (c.starts[i] !== start) {
      c.starts[i] = start;
      c.ok[i] = 0;
      c.fail[i] = 0;
    }
    if (ok) c.ok[i]!++;
    else c.fail[i]!++;
  }
}
