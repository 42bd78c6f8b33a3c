/**
 * Maps an upstream's HTTP failure to the error registry, keeping the provider's message,
 * and turns transport failures (timeouts, resets, refused connections) into errors too.
 */
import { errors as undiciErrors } from 'undici';
import { LlmopsError, type ErrorCode } from '../errors.js';

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

const CONTEXT_LENGTH_PATTERN =
  /context[_ ]length|context window|maximum context|prompt is too long|too many tokens|input is too long|exceeds the maximum number of tokens/i;

function header(headers: UpstreamHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Milliseconds the upstream asked us to wait (`retry-after-ms`, `retry-after` in seconds or as a date). */
export function retryAfterMs(headers: UpstreamHeaders, now = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '' && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = header(headers, 'retry-after');
  if (ra === undefined || ra.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401 || status === 403) return 'upstream_auth_error';
  if (status === 404) return 'upstream_not_found';
  if (status === 408) return 'upstream_timeout';
  if (status === 429) return 'upstream_rate_limited';
  if (status === 503 || status === 529) return 'upstream_overloaded';
  if (status >= 500) return 'upstream_error';
  return 'upstream_invalid_request';
}

export interface UpstreamErrorDetails {
  provider: string;
  status: number;
  message: string;
  headers: UpstreamHeaders;
  /** The provider's own error code or type, used to spot context-length errors. */
  providerCode?: string | undefined;
  param?: string | null | undefined;
}

/** An error for a non-2xx upstream answer. */
export function upstreamError(d: UpstreamErrorDetails): LlmopsError {
  let code = codeForStatus(d.status);
  if (
    (code === 'upstream_invalid_request' || d.status === 413) &&
    (d.providerCode === 'context_length_exceeded' || CONTEXT_LENGTH_PATTERN.test(d.message))
  ) {
    code = 'context_length_exceeded';
  }
  const wait = retryAfterMs(d.headers);
  const keepStatus = code === 'upstream_invalid_request' && d.status >= 400 && d.status < 500 ? d.status : undefined;
  return new LlmopsError(code, `${d.provider}: ${d.message || `upstream answered HTTP ${d.status}`}`, {
    provider: d.provider,
    upstreamStatus: d.status,
    param: d.param ?? null,
    ...(keepStatus === undefined ? {} : { status: keepStatus }),
    ...(wait === undefined ? {} : { retryAfterMs: wait }),
  });
}

/** Reads `{"error":{"message","type","code","param"}}` (OpenAI, Azure, most compatibles) or falls back to the text. */
export function openAIStyleError(provider: string, status: number, bodyText: string, headers: UpstreamHeaders): LlmopsError {
  let message = bodyText.slice(0, 2000);
  let providerCode: string | undefined;
  let param: string | null | undefined;
  try {
    const body = JSON.parse(bodyText) as { error?: unknown; message?: unknown };
    const e = body.error;
    if (e && typeof e === 'object') {
      const o = e as { message?: unknown; code?: unknown; type?: unknown; param?: unknown };
      if (typeof o.message === 'string') message = o.message;
      if (typeof o.code === 'string') providerCode = o.code;
      else if (typeof o.type === 'string') providerCode = o.type;
      if (typeof o.param === 'string') param = o.param;
    } else if (typeof e === 'string') {
      message = e;
    } else if (typeof body.message === 'string') {
      message = body.message;
    }
  } catch {
    // Not JSON (e.g. an HTML page from a proxy): keep the text.
  }
  return upstreamError({ provider, status, message, headers, providerCode, param });
}

/** A transport failure (no usable HTTP answer) as an error. */
/** `signal`: the attempt's abort state (an AbortSignal or the attempt itself): an aborted call reports why. */
export function transportError(provider: string, err: unknown, signal: { readonly aborted: boolean; readonly reason?: unknown }): LlmopsError {
  if (err instanceof LlmopsError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof LlmopsError) return reason;
    return new LlmopsError('client_closed_request', `${provider}: the request was aborted`, { provider, cause: err });
  }
  if (err instanceof undiciErrors.HeadersTimeoutError) {
    return new LlmopsError('upstream_timeout', `${provider}: no response headers before the time-to-first-byte timeout`, {
      provider,
      cause: err,
    });
  }
  if (err instanceof undiciErrors.BodyTimeoutError) {
    return new LlmopsError('upstream_timeout', `${provider}: the response body stalled`, { provider, cause: err });
  }
  const code = (err as { code?: unknown } | null)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  return new LlmopsError(
    'upstream_unreachable',
    `${provider}: connection failed (${typeof code === 'string' ? code : detail})`,
    { provider, cause: err },
  );
}
