/**
 * Stage, parse: the inbound wire format validates the body into the canonical request,
 * and the request's tags (user, feature, session, metadata) are read from the
 * `x-llmops-*` headers and the body's `user` and `metadata` fields.
 */
import { LlmopsError } from '../errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import type { Stage } from './compose.js';
import type { HeaderMap, RequestContext, RequestTags } from './context.js';

function header(headers: HeaderMap, name: string): string | null {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? null : s;
}

export function readTags(headers: HeaderMap, bodyUser: unknown, bodyMetadata: unknown): RequestTags {
  let metadata: Record<string, unknown> | null = null;
  const raw = header(headers, 'x-llmops-metadata');
  if (raw !== null) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw new LlmopsError('invalid_request', 'Invalid request: the x-llmops-metadata header must be a JSON object', {
        param: 'x-llmops-metadata',
      });
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new LlmopsError('invalid_request', 'Invalid request: the x-llmops-metadata header must be a JSON object', {
        param: 'x-llmops-metadata',
      });
    }
    if (nestsDeeperThan(parsed)) {
      throw new LlmopsError('invalid_request', `Invalid request: the x-llmops-metadata header nests more than ${MAX_JSON_DEPTH} levels deep`, {
        param: 'x-llmops-metadata',
      });
    }
    metadata = parsed as Record<string, unknown>;
  }
  if (bodyMetadata && typeof bodyMetadata === 'object' && !Array.isArray(bodyMetadata)) {
    metadata = { ...(bodyMetadata as Record<string, unknown>), ...(metadata ?? {}) };
  }
  return {
    user: header(headers, 'x-llmops-user') ?? (typeof bodyUser === 'string' && bodyUser !== '' ? bodyUser : null),
    feature: header(headers, 'x-llmops-feature'),
    session: header(headers, 'x-llmops-session'),
    metadata,
  };
}

export function parse(): Stage<RequestContext> {
  // Not an async function, like authenticate: nothing to do on the way out.
  return (ctx, next) => {
    if (ctx.http.bodyError) {
      ctx.tags = readTags(ctx.http.headers, undefined, undefined); // the headers' tags still count
      throw ctx.http.bodyError;
    }
    if (ctx.http.body === undefined) {
      throw new LlmopsError('invalid_json', 'The request body is empty; expected a JSON object.');
    }
    const parsed = ctx.inbound.parse(ctx.http.body);
    ctx.requestedModel = parsed.request.model;
    if (parsed.kind === 'chat') {
      ctx.stream = parsed.stream;
      ctx.request = { kind: 'chat', body: parsed.request, ...(parsed.native ? { native: parsed.native } : {}) };
      ctx.tags = readTags(ctx.http.headers, parsed.request.user, parsed.request.metadata);
    } else {
      ctx.request = { kind: 'embeddings', body: parsed.request };
      ctx.tags = readTags(ctx.http.headers, parsed.request.user, undefined);
    }
    return next();
  };
}
