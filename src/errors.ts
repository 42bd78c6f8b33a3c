/**
 * The one registry of errors llmops returns. Every error a client can see has a stable
 * `code`, an HTTP status and an OpenAI error `type` here; errors are serialized in one
 * place ({@link toOpenAIErrorBody}) and never carry a stack trace to the client.
 */

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error'
  | 'insufficient_quota';

interface ErrorSpec {
  status: number;
  type: ErrorType;
}

export const ERRORS = {
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_request: { status: 400, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  /** The client took longer than `server.request_timeout_ms` to send its request. */
  request_timeout: { status: 408, type: 'invalid_request_error' },
  /** The request's headers are over Node's limit (16 KiB by default, `--max-http-header-size`). */
  request_headers_too_large: { status: 431, type: 'invalid_request_error' },
  /** Not an HTTP request Node could parse. */
  malformed_http: { status: 400, type: 'invalid_request_error' },
  unsupported_parameter: { status: 400, type: 'invalid_request_error' },
  missing_api_key: { status: 401, type: 'authentication_error' },
  invalid_api_key: { status: 401, type: 'authentication_error' },
  expired_api_key: { status: 401, type: 'authentication_error' },
  revoked_api_key: { status: 401, type: 'authentication_error' },
  model_not_allowed: { status: 403, type: 'permission_error' },
  admin_required: { status: 403, type: 'permission_error' },
  model_not_found: { status: 404, type: 'not_found_error' },
  not_found: { status: 404, type: 'not_found_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  /** No target of a `cost` route can take the request (context window, tools, vision). */
  no_capable_target: { status: 400, type: 'invalid_request_error' },
  upstream_invalid_request: { status: 400, type: 'invalid_request_error' },
  upstream_not_found: { status: 404, type: 'not_found_error' },
  upstream_auth_error: { status: 502, type: 'api_error' },
  upstream_rate_limited: { status: 429, type: 'rate_limit_error' },
  upstream_error: { status: 502, type: 'api_error' },
  upstream_overloaded: { status: 503, type: 'overloaded_error' },
  upstream_timeout: { status: 504, type: 'timeout_error' },
  upstream_unreachable: { status: 502, type: 'api_error' },
  upstream_bad_response: { status: 502, type: 'api_error' },
  upstream_stream_error: { status: 502, type: 'api_error' },
  all_targets_unavailable: { status: 503, type: 'overloaded_error' },
  client_closed_request: { status: 499, type: 'invalid_request_error' },
  service_shutting_down: { status: 503, type: 'overloaded_error' },
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error' },
  /** A budget's hard stop; 402 by default (`budgets.status` can make it 429). */
  budget_exceeded: { status: 402, type: 'insufficient_quota' },
  /** One request's worst-case cost is over `budgets.per_request_max_usd` and was not approved. */
  request_cost_too_high: { status: 402, type: 'insufficient_quota' },
  /** The rate-limit/budget state backend (Redis) failed and `limits.on_state_error` is `deny`. */
  limits_unavailable: { status: 503, type: 'overloaded_error' },
  /** The bodies of the requests in flight already hold `server.max_inflight_body_bytes`: the gateway sheds load instead of running out of memory. */
  server_overloaded: { status: 503, type: 'overloaded_error' },
  /** A key not seen recently could not be checked: the store did not answer (keys in use go on from memory). */
  store_unavailable: { status: 503, type: 'overloaded_error' },
  /** A guardrail blocked the call (its `param` names the guard); nothing, or nothing more, was sent upstream. */
  guardrail_blocked: { status: 400, type: 'invalid_request_error' },
  /** The resource is in a state that does not allow this (e.g. a review item claimed by someone else). */
  conflict: { status: 409, type: 'invalid_request_error' },
  /** A config reload found the config invalid (or could not read it): the running config stays. */
  config_invalid: { status: 422, type: 'invalid_request_error' },
  internal_error: { status: 500, type: 'api_error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface LlmopsErrorOptions {
  param?: string | null;
  cause?: unknown;
  /** Overrides the registry's status, e.g. to keep an upstream's exact 4xx. */
  status?: number;
  /** How long the client (or the router) should wait before retrying; sent as `Retry-After` in seconds. */
  retryAfterMs?: number;
  /** The provider whose answer caused this error, when there is one. */
  provider?: string;
  /** The upstream HTTP status, when this error came from a provider's answer. */
  upstreamStatus?: number;
}

export class LlmopsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: ErrorType;
  readonly param: string | null;
  readonly retryAfterMs: number | undefined;
  readonly provider: string | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(code: ErrorCode, message: string, options: LlmopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LlmopsError';
    this.code = code;
    this.status = options.status ?? ERRORS[code].status;
    this.type = ERRORS[code].type;
    this.param = options.param ?? null;
    this.retryAfterMs = options.retryAfterMs;
    this.provider = options.provider;
    this.upstreamStatus = options.upstreamStatus;
  }
}

/** The `Retry-After` header value (whole seconds, rounded up), when the error carries one. */
export function retryAfterHeader(err: LlmopsError): string | undefined {
  return err.retryAfterMs === undefined ? undefined : String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

/** Any thrown value as an {@link LlmopsError}; unknown errors become `internal_error` with a safe message. */
export function asLlmopsError(err: unknown): LlmopsError {
  if (err instanceof LlmopsError) return err;
  return new LlmopsError('internal_error', 'The gateway failed to handle this request; the error was logged.', {
    cause: err,
  });
}

export function toOpenAIErrorBody(err: LlmopsError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, code: err.code, param: err.param } };
}
