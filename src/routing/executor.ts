/**
 * Runs one call over a route: orders targets by strategy, skips open circuits, retries
 * with exponential backoff and full jitter (honouring `Retry-After`), falls back on
 * 429/5xx/timeouts/connection errors but not on caller errors, and moves to the
 * context-fallback targets when every target says the request is too long.
 */
import { AttemptAbort, type Cancellation } from '../cancellation.js';
import type { RoutingConfig } from '../config/schema.js';
import { asLlmopsError, LlmopsError, type ErrorCode } from '../errors.js';
import type { CallOptions } from '../providers/types.js';
import type { AttemptRecord } from '../store/types.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { LatencyTracker } from './latency-tracker.js';
import type { ResolvedTarget, Route } from './router.js';
import { STRATEGIES } from './strategies.js';

export interface ExecutorDeps {
  routing: RoutingConfig;
  breaker: CircuitBreaker;
  latency: LatencyTracker;
  random?: () => number;
}

/** A successful attempt. `release()` must be called when the answer is fully consumed (ends the attempt's timeout). */
export interface Attempted<T> {
  value: T;
  target: ResolvedTarget;
  release(): void;
  /**
   * What a failure while reading the answer (a stream breaking) means: the abort's reason
   * when the attempt was aborted (the client left, the total timeout fired), whatever the
   * provider threw then; else the error itself.
   */
  failure(err: unknown): LlmopsError;
}

/** The error an attempt ended with: its abort's reason if it was aborted, else what was thrown. */
function attemptError(ctl: AttemptAbort, thrown: unknown): LlmopsError {
  return ctl.aborted && ctl.reason instanceof LlmopsError ? ctl.reason : asLlmopsError(thrown);
}

/** Errors that say the caller's request is wrong: no retry, no fallback. */
const CALLER_ERRORS: ReadonlySet<ErrorCode> = new Set([
  'upstream_invalid_request',
  'upstream_not_found',
  'upstream_auth_error',
  'unsupported_parameter',
  'invalid_request',
]);

type Verdict = 'retry' | 'fatal' | 'context' | 'abort' | 'local';

function classify(err: LlmopsError): Verdict {
  if (err.code === 'client_closed_request' || err.code === 'service_shutting_down') return 'abort';
  // The gateway's own failure (a bug, or a request it cannot process), not the target's:
  // counted against the target, one bad request repeated would open its circuit for everyone.
  if (err.code === 'internal_error') return 'local';
  if (err.code === 'context_length_exceeded') return 'context';
  if (CALLER_ERRORS.has(err.code)) return 'fatal';
  return 'retry';
}

/** Full jitter: a random wait in [0, min(cap, base * 2^attempt)]. */
export function backoffMs(attempt: number, base: number, cap: number, random: () => number): number {
  return Math.floor(random() * Math.min(cap, base * 2 ** attempt));
}

export async function executeRoute<T>(
  route: Route,
  deps: ExecutorDeps,
  client: Cancellation,
  attempts: AttemptRecord[],
  call: (target: ResolvedTarget, opts: CallOptions) => Promise<T>,
): Promise<Attempted<T>> {
  const random = deps.random ?? Math.random;
  const ordered = STRATEGIES[route.strategy](route.targets, { latency: deps.latency, random });
  let lastError: LlmopsError | undefined;
  let contextError: LlmopsError | undefined;

  const tryTargets = async (targets: readonly ResolvedTarget[]): Promise<Attempted<T> | undefined> => {
    for (const target of targets) {
      for (let attempt = 0; attempt <= route.retries; attempt++) {
        if (client.aborted) throw clientAbort(client);
        if (!deps.breaker.tryAcquire(target.key)) {
          attempts.push({ provider: target.provider.name, model: target.model, status: null, latency_ms: 0, error_code: 'circuit_open', error: 'skipped: circuit open' });
          lastError ??= new LlmopsError('all_targets_unavailable', `every target for '${route.name}' is unavailable (circuit open)`);
          break;
        }
        const ctl = new AttemptAbort();
        const offCancel = client.onCancel(() => ctl.abort(clientAbort(client)));
        const timer = setTimeout(
          () => ctl.abort(new LlmopsError('upstream_timeout', `${target.provider.name}: no complete answer within ${target.timeoutMs} ms`, { provider: target.provider.name })),
          target.timeoutMs,
        );
        const release = (): void => {
          clearTimeout(timer);
          offCancel();
        };
        const t0 = performance.now();
        try {
          const value = await call(target, { attempt: ctl, ttfbTimeoutMs: target.ttfbTimeoutMs, streamIdleTimeoutMs: target.streamIdleTimeoutMs });
          const ms = performance.now() - t0;
          deps.breaker.onSuccess(target.key);
          deps.latency.observe(target.key, ms);
          attempts.push({ provider: target.provider.name, model: target.model, status: 200, latency_ms: round(ms) });
          return { value, target, release, failure: (e) => attemptError(ctl, e) };
        } catch (e) {
          release();
          const err = attemptError(ctl, e);
          attempts.push({
            provider: target.provider.name,
            model: target.model,
            status: err.upstreamStatus ?? null,
            latency_ms: round(performance.now() - t0),
            error_code: err.code,
            error: err.message,
          });
          const verdict = classify(err);
          if (verdict === 'abort' || verdict === 'local') {
            deps.breaker.release(target.key);
            throw err;
          }
          if (verdict === 'fatal') {
            deps.breaker.onSuccess(target.key); // the target answered: it is healthy
            throw err;
          }
          if (verdict === 'context') {
            deps.breaker.onSuccess(target.key);
            contextError = err;
            return undefined;
          }
          deps.breaker.onFailure(target.key);
          lastError = err;
          if (attempt === route.retries) break;
          const wait = retryWait(err, attempt, deps.routing, random);
          if (wait === undefined) break; // Retry-After too long: try the next target now
          try {
            await client.sleep(wait);
          } catch {
            throw clientAbort(client);
          }
        }
      }
    }
    return undefined;
  };

  const done = await tryTargets(ordered);
  if (done) return done;
  if (contextError) {
    if (route.contextFallback.length === 0) throw contextError;
    const viaFallback = await tryTargets(route.contextFallback);
    if (viaFallback) return viaFallback;
  }
  throw lastError ?? contextError ?? new LlmopsError('all_targets_unavailable', `no target could serve '${route.name}'`);
}

function retryWait(err: LlmopsError, attempt: number, routing: RoutingConfig, random: () => number): number | undefined {
  if (err.retryAfterMs !== undefined) return err.retryAfterMs > routing.max_retry_after_ms ? undefined : err.retryAfterMs;
  return backoffMs(attempt, routing.backoff_base_ms, routing.backoff_max_ms, random);
}

function clientAbort(client: Cancellation): LlmopsError {
  return client.reason ?? new LlmopsError('client_closed_request', 'the client closed the connection');
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
