import { describe, expect, it } from 'vitest';
import { Cancellation } from '../cancellation.js';
import { RoutingSchema } from '../config/schema.js';
import { LlmopsError } from '../errors.js';
import type { Provider } from '../providers/types.js';
import type { AttemptRecord } from '../store/types.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { executeRoute } from './executor.js';
import { LatencyTracker } from './latency-tracker.js';
import type { ResolvedTarget, Route } from './router.js';

function target(name: string): ResolvedTarget {
  return {
    key: `${name}/m`,
    provider: { name } as Provider,
    model: 'm',
    weight: 1,
    timeoutMs: 5_000,
    ttfbTimeoutMs: 5_000,
    streamIdleTimeoutMs: 0,
    maxOutputTokens: undefined,
    capabilities: {} as ResolvedTarget['capabilities'],
  };
}

function setup(): { route: Route; deps: Parameters<typeof executeRoute>[1]; breaker: CircuitBreaker } {
  const routing = RoutingSchema.parse({ retries: 2, backoff_base_ms: 1, backoff_max_ms: 2, circuit_breaker: { failure_threshold: 2 } });
  const breaker = new CircuitBreaker(routing.circuit_breaker);
  const route: Route = { name: 'chat', strategy: 'fallback', targets: [target('p1'), target('p2')], contextFallback: [], retries: 2, planned: false, answeredBy: 'p1/m p2/m' };
  return { route, deps: { routing, breaker, latency: new LatencyTracker(0.3) }, breaker };
}

describe('executeRoute', () => {
  it("counts an upstream failure against the target: retries, falls back, and opens its circuit", async () => {
    const { route, deps, breaker } = setup();
    const calls: string[] = [];
    const attempts: AttemptRecord[] = [];
    const done = await executeRoute(route, deps, new Cancellation(), attempts, async (t) => {
      calls.push(t.provider.name);
      if (t.provider.name === 'p1') throw new LlmopsError('upstream_error', 'p1: 500', { upstreamStatus: 500 });
      return 'ok';
    });
    expect(done.value).toBe('ok');
    expect(calls).toEqual(['p1', 'p1', 'p2']); // the second p1 failure opened the circuit: no third try
    expect(breaker.state('p1/m')).toBe('open');
  });

  it("does not count the gateway's own failure against the target: no retry, no fallback, the circuit stays closed", async () => {
    const { route, deps, breaker } = setup();
    for (let i = 0; i < 5; i++) {
      const calls: string[] = [];
      const attempts: AttemptRecord[] = [];
      const failed = executeRoute(route, deps, new Cancellation(), attempts, async (t) => {
        calls.push(t.provider.name);
        throw new RangeError('Maximum call stack size exceeded'); // say, translating a request
      });
      await expect(failed).rejects.toMatchObject({ code: 'internal_error', status: 500 });
      expect(calls).toEqual(['p1']);
      expect(attempts).toEqual([expect.objectContaining({ provider: 'p1', error_code: 'internal_error' })]);
    }
    expect(breaker.state('p1/m')).toBe('closed');
    const ok = await executeRoute(route, deps, new Cancellation(), [], async (t) => t.provider.name);
    expect(ok.value).toBe('p1');
  });
});
