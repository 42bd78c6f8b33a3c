/**
 * The `gemini` provider: Google AI's Gemini API (`generativelanguage.googleapis.com`,
 * `v1beta`) — `generateContent`, `streamGenerateContent?alt=sse` and `batchEmbedContents`,
 * authenticated with the `x-goog-api-key` header. Translation is in `translate.ts`.
 *
 * @example
 * const gemini = createGeminiProvider('gemini', { api_key: process.env.GEMINI_API_KEY });
 * const { response } = await gemini.chat(request, 'gemini-2.5-flash', opts);
 */
import type { EmbeddingsRequest } from '../../canonical.js';
import { HttpProvider } from '../http-provider.js';
import type { CallOptions, EmbeddingsResult, HttpRequestSpec, Provider, WireAdapter } from '../types.js';
import { GeminiStreamDecoder } from './stream-decoder.js';
import {
  completeEmbeddings,
  fromGeminiEmbedResponse,
  fromGeminiResponse,
  geminiError,
  geminiModelName,
  toGeminiEmbedRequest,
  toGeminiRequest,
} from './translate.js';

export interface GeminiProviderConfig {
  api_key?: string | undefined;
  base_url?: string | undefined;
  headers?: Record<string, string> | undefined;
}

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com';

export function geminiAdapter(name: string, cfg: GeminiProviderConfig): WireAdapter {
  const base = `${(cfg.base_url ?? GEMINI_BASE_URL).replace(/\/+$/, '')}/v1beta`;
  const headers: Record<string, string> = { ...(cfg.headers ?? {}), 'content-type': 'application/json' };
  if (cfg.api_key) headers['x-goog-api-key'] = cfg.api_key;
  const url = (model: string, method: string): string => `${base}/${geminiModelName(model)}:${method}`;
  return {
    chatRequest(req, model, stream): HttpRequestSpec {
      return {
        url: stream ? `${url(model, 'streamGenerateContent')}?alt=sse` : url(model, 'generateContent'),
        headers,
        body: JSON.stringify(toGeminiRequest(req)),
      };
    },
    chatResponse: (body, model) => fromGeminiResponse(body, model, name),
    streamDecoder: (model, req) => new GeminiStreamDecoder(name, model, req.stream_options?.include_usage === true),
    embeddingsRequest(req, model): HttpRequestSpec {
      return { url: url(model, 'batchEmbedContents'), headers, body: JSON.stringify(toGeminiEmbedRequest(req, model)) };
    },
    embeddingsResponse: (body, model) => fromGeminiEmbedResponse(body, model, name),
    error: (status, bodyText, resHeaders) => geminiError(name, status, bodyText, resHeaders),
  };
}

/** Adds what Gemini's embeddings answer lacks and the adapter cannot see: the request's encoding and token count. */
class GeminiProvider extends HttpProvider {
  override async embeddings(req: EmbeddingsRequest, model: string, opts: CallOptions): Promise<EmbeddingsResult> {
    return completeEmbeddings(await super.embeddings(req, model, opts), req);
  }
}

export function createGeminiProvider(name: string, cfg: GeminiProviderConfig): Provider {
  return new GeminiProvider({ name, type: 'gemini', adapter: geminiAdapter(name, cfg) });
}
