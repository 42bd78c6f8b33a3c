/**
 * The `anthropic` provider: Anthropic's Messages API (`POST /v1/messages`). Canonical
 * requests are translated by `translate.ts`; an Anthropic client's own body is passed
 * through with only `model` (and `stream`) replaced, and the upstream's answer goes back
 * to it verbatim. Anthropic offers no embeddings, so this provider has none.
 */
import { LlmopsError } from '../../errors.js';
import { HttpProvider } from '../http-provider.js';
import type { ChatResult, HttpRequestSpec, Provider, WireAdapter } from '../types.js';
import { upstreamError, type UpstreamHeaders } from '../upstream-error.js';
import { AnthropicStreamDecoder, asAnthropicMessage, fromAnthropicMessage, toAnthropicRequest } from './translate.js';

export interface AnthropicProviderConfig {
  api_key?: string | undefined;
  base_url?: string | undefined;
  /** The `anthropic-version` header. */
  version?: string | undefined;
  headers?: Record<string, string> | undefined;
  /** `max_tokens` sent when the caller gives none (Anthropic requires one). */
  default_max_tokens?: number | undefined;
}

export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicAdapterOptions {
  /** Provider name, used in error messages. */
  name: string;
  messagesUrl: string;
  headers: Record<string, string>;
  defaultMaxTokens?: number | undefined;
}

/** Reads Anthropic's `{"type":"error","error":{"type","message"}}` (or keeps the text). */
export function anthropicError(provider: string, status: number, bodyText: string, headers: UpstreamHeaders): LlmopsError {
  let message = bodyText.slice(0, 2000);
  let providerCode: string | undefined;
  try {
    const body = JSON.parse(bodyText) as { error?: { type?: unknown; message?: unknown } | null };
    const e = body.error;
    if (e && typeof e === 'object') {
      if (typeof e.message === 'string') message = e.message;
      if (typeof e.type === 'string') providerCode = e.type;
    }
  } catch {
    // Not JSON (e.g. an HTML page from a proxy): keep the text.
  }
  return upstreamError({ provider, status, message, headers, providerCode });
}

export function anthropicAdapter(o: AnthropicAdapterOptions): WireAdapter {
  return {
    chatRequest(req, model, stream, native): HttpRequestSpec {
      const body: Record<string, unknown> =
        native?.format === 'anthropic' ? { ...native.body, model } : toAnthropicRequest(req, model, { defaultMaxTokens: o.defaultMaxTokens });
      if (stream) body.stream = true;
      else if (body.stream !== undefined) body.stream = false;
      return { url: o.messagesUrl, headers: o.headers, body: JSON.stringify(body) };
    },

    chatResponse(body, _model): ChatResult {
      const msg = asAnthropicMessage(body);
      if (!msg) throw new LlmopsError('upstream_bad_response', `${o.name}: the upstream answer is not an Anthropic message`, { provider: o.name });
      return { ...fromAnthropicMessage(msg), native: { format: 'anthropic', body } };
    },

    streamDecoder(model, req) {
      return new AnthropicStreamDecoder(o.name, model, req.stream_options?.include_usage === true);
    },

    error(status, bodyText, headers) {
      return anthropicError(o.name, status, bodyText, headers);
    },
  };
}

/**
 * @example
 * const p = createAnthropicProvider('anthropic', { api_key: process.env.ANTHROPIC_API_KEY });
 * await p.chat({ model: 'x', messages: [{ role: 'user', content: 'Hi' }] }, 'claude-sonnet-4-5', opts);
 */
export function createAnthropicProvider(name: string, cfg: AnthropicProviderConfig): Provider {
  const base = (cfg.base_url ?? ANTHROPIC_BASE_URL).replace(/\/+$/, '');
  // The SDKs' base URL has no `/v1`; accept one given with it too.
  const messagesUrl = /\/v1$/.test(base) ? `${base}/messages` : `${base}/v1/messages`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': cfg.version ?? ANTHROPIC_VERSION,
    ...(cfg.headers ?? {}),
  };
  if (cfg.api_key) headers['x-api-key'] = cfg.api_key;
  return new HttpProvider({
    name,
    type: 'anthropic',
    adapter: anthropicAdapter({ name, messagesUrl, headers, defaultMaxTokens: cfg.default_max_tokens }),
  });
}
