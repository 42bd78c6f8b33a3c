import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.js';

const opts = { failure_threshold: 3, error_rate_threshold: 0.5, min_requests: 10, window_ms: 10_000, cooldown_ms: 1000 };

describe('circuit breaker', () => {
  it('opens after consecutive failures and a success resets the count', () => {
    const b = new CircuitBreaker(opts);
    b.onFailure('t', 0);
    b.onFailure('t', 1);
    b.onSuccess('t', 2);
    b.onFailure('t', 3);
    b.onFailure('t', 4);
    expect(b.state('t', 5)).toBe('closed');
    b.onFailure('t', 6);
    expect(b.state('t', 7)).toBe('open');
    expect(b.tryAcquire('t', 500)).toBe(false);
  });

  it('lets exactly one half-open probe through after the cooldown', () => {
    const b = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) b.onFailure('t', 0);
    expect(b.tryAcquire('t', 999)).toBe(false);
    expect(b.tryAcquire('t', 1000)).toBe(true);
    expect(b.tryAcquire('t', 1001)).toBe(false);
    b.onFailure('t', 1100);
    expect(b.state('t', 1200)).toBe('open');
    expect(b.tryAcquire('t', 2100)).toBe(true);
    b.onSuccess('t', 2150);
    expect(b.state('t', 2200)).toBe('closed');
    expect(b.tryAcquire('t', 2200)).toBe(true);
  });

  it('frees the probe when the probing call ends without a verdict', () => {
    const b = new CircuitBreaker(opts);
    for (let i = 0; i < 3; i++) b.onFailure('t', 0);
    expect(b.tryAcquire('t', 1000)).toBe(true);
    b.release('t');
    expect(b.tryAcquire('t', 1001)).toBe(true);
  });

  it('opens on the error rate only once min_requests were seen in the window', () => {
    const b = new CircuitBreaker({ ...opts, failure_threshold: 100 });
    for (let i = 0; i < 4; i++) {
      b.onSuccess('t', i * 10);
      b.onFailure('t', i * 10 + 5);
    }
    expect(b.state('t', 100)).toBe('closed'); // 8 < 10 requests
    b.onSuccess('t', 100);
    b.onFailure('t', 110);
    expect(b.state('t', 120)).toBe('open'); // 5 of 10 failed
  });

  it('forgets outcomes older than the window', () => {
    const b = new CircuitBreaker({ ...opts, failure_threshold: 100, min_requests: 4 });
    b.onFailure('t', 0);
    b.onFailure('t', 1);
    b.onFailure('t', 2);
    b.onSuccess('t', 20_000);
    b.onSuccess('t', 20_001);
    b.onSuccess('t', 20_002);
    b.onFailure('t', 20_003);
    expect(b.state('t', 20_004)).toBe('closed'); // 1 of 4 in the window
  });
});
