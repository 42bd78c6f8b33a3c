/**
 * Canonical (OpenAI Chat Completions) ⇄ Gemini `generateContent` translation: requests,
 * answers, usage, finish reasons, tool call ids, embeddings and Google's error bodies.
 * Pure functions; the stream decoder lives in `stream-decoder.ts`.
 *
 * Choices made here, for the record:
 * - A prompt blocked by Gemini (`promptFeedback.blockReason`, no candidates) is an answer,
 *   not an error: `finish_reason: "content_filter"`, `content: null` and a `refusal` naming
 *   the block reason, with the usage Google reports (the prompt was billed).
 * - `json_schema` response formats go out as `responseSchema` (Gemini's OpenAPI subset,
 *   converted by `json-schema.ts` with `propertyOrdering` kept from the key order), which
 *   every Gemini model accepts; tool parameters go through the same converter.
 * - Gemini gives function calls no ids (some API versions do: those are kept). Others get
 *   `call_` + a hash of the response id, candidate and position. A `thoughtSignature` on a
 *   function call (Gemini 2.5+/3, required back by Gemini 3) rides in the id after
 *   `__thought__` (base64url), and is restored on the way back upstream.
 * - Thought parts (`thought: true`), code execution and inline output data are not text
 *   of the answer and are left out.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  contentText,
  requestedMaxTokens,
  usageToOpenAI,
  type ChatCompletion,
  type ChatMessage,
  type ChatRequest,
  type EmbeddingsRequest,
  type EmbeddingsResponse,
  type FinishReason,
  type ToolCall,
  type Usage,
} from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import { countTokens } from '../../token-counter.js';
import type { ChatResult, EmbeddingsResult } from '../types.js';
import { upstreamError, type UpstreamHeaders } from '../upstream-error.js';
import { toGeminiSchema } from './json-schema.js';
import type {
  GeminiCandidate,
  GeminiContent,
  GeminiEmbedRequest,
  GeminiEmbedResponse,
  GeminiErrorBody,
  GeminiFunctionCall,
  GeminiGenerationConfig,
  GeminiPart,
  GeminiRequest,
  GeminiResponse,
  GeminiUsageMetadata,
} from './wire.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badResponse(provider: string, what: string): LlmopsError {
  return new LlmopsError('upstream_bad_response', `${provider}: ${what}`, { provider });
}

/** `models/{model}` (or a `tunedModels/…` name as is), the resource name Gemini's URLs and embed requests use. */
export function geminiModelName(model: string): string {
  if (model.startsWith('models/') || model.startsWith('tunedModels/')) return model;
  return `models/${model}`;
}

// ---------------------------------------------------------------------------------------
// Request

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** The MIME type an image URL's extension suggests; `image/jpeg` when it says nothing. */
export function guessMimeType(url: string): string {
  let path = url;
  try {
    path = new URL(url).pathname;
  } catch {
    // Not a parseable URL: look at the text as is.
  }
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXTENSION[ext]) || 'image/jpeg';
}

/** A `data:` URL as Gemini `inlineData` (base64), or undefined when it is not one. */
function inlineData(url: string, defaultMime: string): GeminiPart | undefined {
  if (!url.startsWith('data:')) return undefined;
  const comma = url.indexOf(',');
  if (comma === -1) return undefined;
  const header = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const params = header.split(';');
  const mimeType = params[0] || defaultMime;
  const data = params.includes('base64') ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { inlineData: { mimeType, data } };
}

function imagePart(url: string, param: string): GeminiPart {
  const inline = inlineData(url, 'image/jpeg');
  if (inline) return inline;
  if (/^(https?|gs):\/\//i.test(url)) return { fileData: { mimeType: guessMimeType(url), fileUri: url } };
  throw new LlmopsError('unsupported_parameter', `${param}: an image URL must be a data: URL or an http(s) URL`, { param });
}

/** Content parts the canonical type leaves out but the OpenAI inbound schema lets through. */
interface OtherPart {
  type: string;
  input_audio?: { data?: unknown; format?: unknown };
  file?: { file_data?: unknown; file_id?: unknown; filename?: unknown };
}

function userParts(content: ChatMessage['content'], param: string): GeminiPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  const parts: GeminiPart[] = [];
  for (const [i, raw] of content.entries()) {
    const p = raw as OtherPart & { text?: unknown; image_url?: { url?: unknown } };
    const where = `${param}.content[${i}]`;
    const file = p.type === 'file' && typeof p.file?.file_data === 'string' ? inlineData(p.file.file_data, 'application/pdf') : undefined;
    if (p.type === 'text' && typeof p.text === 'string') {
      if (p.text !== '') parts.push({ text: p.text });
    } else if (p.type === 'image_url' && typeof p.image_url?.url === 'string') {
      parts.push(imagePart(p.image_url.url, where));
    } else if (p.type === 'input_audio' && typeof p.input_audio?.data === 'string' && typeof p.input_audio.format === 'string') {
      parts.push({ inlineData: { mimeType: `audio/${p.input_audio.format}`, data: p.input_audio.data } });
    } else if (file) {
      parts.push(file);
    } else {
      throw new LlmopsError('unsupported_parameter', `${where}: content part type '${p.type}' is not supported by Gemini in this form`, {
        param: where,
      });
    }
  }
  return parts;
}

const THOUGHT_MARK = '__thought__';

/** A tool call id that carries a thought signature, made safe for any client (base64url). */
export function toolCallIdWithSignature(id: string, signature: string | undefined): string {
  if (!signature) return id;
  return `${id}${THOUGHT_MARK}${Buffer.from(signature, 'base64').toString('base64url')}`;
}

/** The thought signature a tool call id carries, if any (base64url, which Gemini accepts for bytes). */
export function signatureFromToolCallId(id: string): string | undefined {
  const at = id.indexOf(THOUGHT_MARK);
  return at === -1 ? undefined : id.slice(at + THOUGHT_MARK.length) || undefined;
}

/** The id of the i-th function call of a candidate: Gemini's own when it sent one, else a stable hash. */
export function toolCallId(seed: string, candidate: number, position: number, call: GeminiFunctionCall, signature: string | undefined): string {
  const base =
    typeof call.id === 'string' && call.id !== ''
      ? call.id
      : `call_${createHash('sha256').update(`${seed}\u0000${candidate}\u0000${position}\u0000${call.name}`).digest('hex').slice(0, 24)}`;
  return toolCallIdWithSignature(base, signature);
}

function functionArgs(tc: ToolCall, param: string): Record<string, unknown> {
  const text = tc.function.arguments.trim();
  if (text === '') return {};
  let args: unknown;
  try {
    args = JSON.parse(text);
  } catch {
    args = undefined;
  }
  if (!isObject(args)) {
    throw new LlmopsError('invalid_request', `${param}: function arguments must be a JSON object for Gemini`, { param });
  }
  return args;
}

/** A tool result as Gemini's `functionResponse.response`, which must be a JSON object. */
function functionResponse(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (isObject(parsed)) return parsed;
  } catch {
    // Plain text result.
  }
  return { content: text };
}

function generationConfig(req: ChatRequest): GeminiGenerationConfig | undefined {
  const g: GeminiGenerationConfig = {};
  if (req.temperature != null) g.temperature = req.temperature;
  if (req.top_p != null) g.topP = req.top_p;
  const max = requestedMaxTokens(req);
  if (max != null) g.maxOutputTokens = max;
  if (req.stop != null) {
    const stops = typeof req.stop === 'string' ? [req.stop] : req.stop;
    if (stops.length > 0) g.stopSequences = stops;
  }
  if (req.seed != null) g.seed = req.seed;
  if (req.n != null) g.candidateCount = req.n;
  if (req.presence_penalty != null) g.presencePenalty = req.presence_penalty;
  if (req.frequency_penalty != null) g.frequencyPenalty = req.frequency_penalty;
  const rf = req.response_format;
  if (rf?.type === 'json_object') g.responseMimeType = 'application/json';
  else if (rf?.type === 'json_schema') {
    g.responseMimeType = 'application/json';
    if (rf.json_schema.schema) g.responseSchema = toGeminiSchema(rf.json_schema.schema, { propertyOrdering: true, param: 'response_format' });
  }
  return Object.keys(g).length > 0 ? g : undefined;
}

function hasProperties(schema: Record<string, unknown>): boolean {
  return isObject(schema.properties) && Object.keys(schema.properties).length > 0;
}

/** The Gemini `generateContent` body for a canonical request. */
export function toGeminiRequest(req: ChatRequest): GeminiRequest {
  const contents: GeminiContent[] = [];
  const system: Array<{ text: string }> = [];
  const toolNames = new Map<string, string>();
  const push = (role: 'user' | 'model', parts: GeminiPart[]): void => {
    if (parts.length === 0) return;
    const last = contents.at(-1);
    // Gemini wants turns to alternate: consecutive same-role messages become one turn.
    if (last?.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };

  for (const [i, m] of req.messages.entries()) {
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = contentText(m.content);
        if (text !== '') system.push({ text });
        break;
      }
      case 'user':
        push('user', userParts(m.content, param));
        break;
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const text = contentText(m.content);
        if (text !== '') parts.push({ text });
        for (const [j, tc] of (m.tool_calls ?? []).entries()) {
          toolNames.set(tc.id, tc.function.name);
          const part: GeminiPart = { functionCall: { name: tc.function.name, args: functionArgs(tc, `${param}.tool_calls[${j}].function.arguments`) } };
          const signature = signatureFromToolCallId(tc.id);
          if (signature) part.thoughtSignature = signature;
          parts.push(part);
        }
        push('model', parts);
        break;
      }
      case 'tool': {
        const name = (m.tool_call_id === undefined ? undefined : toolNames.get(m.tool_call_id)) ?? m.name;
        if (!name) {
          throw new LlmopsError('invalid_request', `${param}.tool_call_id: no earlier assistant tool call has the id '${m.tool_call_id ?? ''}'`, {
            param: `${param}.tool_call_id`,
          });
        }
        push('user', [{ functionResponse: { name, response: functionResponse(contentText(m.content)) } }]);
        break;
      }
    }
  }

  const body: GeminiRequest = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  if (req.tools?.length) {
    body.tools = [
      {
        functionDeclarations: req.tools.map((t) => {
          const params = t.function.parameters;
          return {
            name: t.function.name,
            ...(t.function.description ? { description: t.function.description } : {}),
            // A function without parameters has none declared: Gemini rejects an OBJECT with no properties.
            ...(params && hasProperties(params) ? { parameters: toGeminiSchema(params, { param: 'tools' }) } : {}),
          };
        }),
      },
    ];
    const tc = req.tool_choice;
    if (tc === 'auto') body.toolConfig = { functionCallingConfig: { mode: 'AUTO' } };
    else if (tc === 'none') body.toolConfig = { functionCallingConfig: { mode: 'NONE' } };
    else if (tc === 'required') body.toolConfig = { functionCallingConfig: { mode: 'ANY' } };
    else if (tc && typeof tc === 'object') body.toolConfig = { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [tc.function.name] } };
  }
  const gen = generationConfig(req);
  if (gen) body.generationConfig = gen;
  return body;
}

// ---------------------------------------------------------------------------------------
// Answer

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini's `finishReason` as OpenAI's. A normal stop with function calls is `tool_calls`;
 * reasons with no OpenAI equivalent (OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, …) are `stop`.
 */
export function finishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason | null {
  if (!reason || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** `usageMetadata` as canonical usage: thoughts are output (and reasoning), cached content is input. */
export function geminiUsage(u: GeminiUsageMetadata | undefined): Usage | undefined {
  if (!u || typeof u !== 'object') return undefined;
  const thoughts = u.thoughtsTokenCount ?? 0;
  return {
    inputTokens: (u.promptTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    outputTokens: (u.candidatesTokenCount ?? 0) + thoughts,
    cachedInputTokens: u.cachedContentTokenCount ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
    estimated: false,
  };
}

/** What a blocked prompt answers with. */
export function blockedRefusal(reason: string): string {
  return `Gemini blocked the prompt (${reason}).`;
}

function candidateMessage(seed: string, c: GeminiCandidate, index: number): ChatCompletion['choices'][number] {
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const part of c.content?.parts ?? []) {
    if (part.thought === true) continue;
    if (typeof part.text === 'string') text += part.text;
    if (part.functionCall) {
      const call = part.functionCall;
      toolCalls.push({
        id: toolCallId(seed, index, toolCalls.length, call, part.thoughtSignature),
        type: 'function',
        function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) },
      });
    }
  }
  return {
    index,
    message: {
      role: 'assistant',
      content: text !== '' ? text : toolCalls.length > 0 ? null : '',
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    },
    finish_reason: finishReason(c.finishReason, toolCalls.length > 0) ?? 'stop',
  };
}

/** A non-streamed `GenerateContentResponse` as a canonical answer. */
export function fromGeminiResponse(body: unknown, model: string, provider: string): ChatResult {
  if (!isObject(body)) throw badResponse(provider, 'the upstream answer is not a JSON object');
  const res = body as GeminiResponse;
  const usage = geminiUsage(res.usageMetadata);
  const seed = res.responseId ?? randomUUID();
  const candidates = Array.isArray(res.candidates) ? res.candidates : [];
  let choices: ChatCompletion['choices'];
  if (candidates.length > 0) {
    choices = candidates.map((c, i) => candidateMessage(seed, c, c.index ?? i));
  } else if (res.promptFeedback?.blockReason) {
    const refusal = blockedRefusal(res.promptFeedback.blockReason);
    choices = [{ index: 0, message: { role: 'assistant', content: null, refusal }, finish_reason: 'content_filter' }];
  } else {
    throw badResponse(provider, 'the upstream answer has no candidates');
  }
  const response: ChatCompletion = {
    id: res.responseId ?? `chatcmpl-${seed}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: res.modelVersion ?? model,
    choices,
    ...(usage ? { usage: usageToOpenAI(usage) } : {}),
  };
  return { response, usage };
}

// ---------------------------------------------------------------------------------------
// Embeddings

/** The `batchEmbedContents` body: one request per input text. */
export function toGeminiEmbedRequest(req: EmbeddingsRequest, model: string): GeminiEmbedRequest {
  const inputs: unknown[] = typeof req.input === 'string' ? [req.input] : req.input;
  const name = geminiModelName(model);
  return {
    requests: inputs.map((text, i) => {
      if (typeof text !== 'string') {
        throw new LlmopsError('unsupported_parameter', `input[${i}]: Gemini embeds text only, not token ids`, { param: 'input' });
      }
      return {
        model: name,
        content: { parts: [{ text }] },
        ...(req.dimensions != null ? { outputDimensionality: req.dimensions } : {}),
      };
    }),
  };
}

/** A `batchEmbedContents` answer as OpenAI's embeddings list (floats; see {@link completeEmbeddings}). */
export function fromGeminiEmbedResponse(body: unknown, model: string, provider: string): EmbeddingsResult {
  const res = body as GeminiEmbedResponse;
  if (!isObject(res) || !Array.isArray(res.embeddings)) throw badResponse(provider, 'the upstream embeddings answer has no embeddings');
  const data = res.embeddings.map((e, index) => {
    if (!Array.isArray(e.values)) throw badResponse(provider, `embedding ${index} has no values`);
    return { object: 'embedding' as const, index, embedding: e.values };
  });
  return { response: { object: 'list', data, model, usage: { prompt_tokens: 0, total_tokens: 0 } }, usage: undefined };
}

/**
 * Finishes an embeddings answer with what needs the request: `encoding_format: "base64"`
 * (little-endian float32, what the official SDKs ask for by default) and usage, which
 * Gemini does not report and is therefore counted with llmops' tokenizer (`estimated`).
 */
export function completeEmbeddings(result: EmbeddingsResult, req: EmbeddingsRequest): EmbeddingsResult {
  const texts = typeof req.input === 'string' ? [req.input] : req.input.filter((x): x is string => typeof x === 'string');
  const tokens = texts.reduce((n, t) => n + countTokens(t), 0);
  const data =
    req.encoding_format === 'base64'
      ? result.response.data.map((d) => ({
          ...d,
          embedding: Array.isArray(d.embedding) ? Buffer.from(new Float32Array(d.embedding).buffer).toString('base64') : d.embedding,
        }))
      : result.response.data;
  const response: EmbeddingsResponse = { ...result.response, data, usage: { prompt_tokens: tokens, total_tokens: tokens } };
  return {
    response,
    usage: { inputTokens: tokens, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true },
  };
}

// ---------------------------------------------------------------------------------------
// Errors

/** A protobuf Duration in JSON (`"7s"`, `"0.25s"`) in milliseconds. */
export function durationMs(d: unknown): number | undefined {
  if (typeof d !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)s$/.exec(d.trim());
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

function headerSet(headers: UpstreamHeaders, name: string): boolean {
  return headers[name] !== undefined;
}

/** The `error` object of Google's error body, which streaming endpoints wrap in an array. */
export function googleErrorOf(body: unknown): GeminiErrorBody['error'] | undefined {
  const first: unknown = Array.isArray(body) ? body[0] : body;
  const e = isObject(first) ? first.error : undefined;
  return isObject(e) ? (e as GeminiErrorBody['error']) : undefined;
}

/**
 * Google's `{"error":{"code","message","status","details"}}` as an llmops error. A
 * `google.rpc.RetryInfo` detail's `retryDelay` counts as Retry-After when no header says
 * otherwise; Google's HTTP 400 for a bad API key (`API_KEY_INVALID`) is an auth error.
 */
export function geminiError(provider: string, status: number, bodyText: string, headers: UpstreamHeaders): LlmopsError {
  let message = bodyText.slice(0, 2000);
  let googleStatus: string | undefined;
  let reason: string | undefined;
  let retryMs: number | undefined;
  try {
    const e = googleErrorOf(JSON.parse(bodyText));
    if (e) {
      if (typeof e.message === 'string') message = e.message;
      if (typeof e.status === 'string') googleStatus = e.status;
      for (const d of Array.isArray(e.details) ? e.details : []) {
        const type = typeof d['@type'] === 'string' ? d['@type'] : '';
        if (type.endsWith('google.rpc.RetryInfo')) retryMs ??= durationMs(d.retryDelay);
        if (type.endsWith('google.rpc.ErrorInfo') && typeof d.reason === 'string') reason ??= d.reason;
      }
    }
  } catch {
    // Not JSON (e.g. an HTML page from a proxy): keep the text.
  }
  const withRetry =
    retryMs !== undefined && !headerSet(headers, 'retry-after') && !headerSet(headers, 'retry-after-ms')
      ? { ...headers, 'retry-after-ms': String(retryMs) }
      : headers;
  const err = upstreamError({ provider, status, message, headers: withRetry, providerCode: reason ?? googleStatus });
  if (status === 400 && (reason === 'API_KEY_INVALID' || googleStatus === 'UNAUTHENTICATED' || googleStatus === 'PERMISSION_DENIED')) {
    return new LlmopsError('upstream_auth_error', err.message, { provider, upstreamStatus: status, cause: err });
  }
  return err;
}
