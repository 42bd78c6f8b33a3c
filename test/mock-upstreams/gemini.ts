/**
 * Google AI's Gemini API as a mock upstream: `POST /v1beta/models/{model}:generateContent`,
 * `:streamGenerateContent?alt=sse` (SSE `data:` events ended with `\r\n\r\n`, as Google
 * sends them), `:batchEmbedContents`, and Google's error bodies (google.rpc.Status with
 * `details`: ErrorInfo, and RetryInfo on 429).
 */
import { textDeltas, type MockDialect, type MockEvent, type MockScenario } from './scenario.js';

const ROUTE = /^\/v1beta\/(?:models|tunedModels)\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/;

/** The `retryDelay` every mock 429 carries in its RetryInfo detail. */
export const MOCK_RETRY_DELAY_S = 42;

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function modelOf(path: string): string {
  return decodeURIComponent(ROUTE.exec(path.split('?')[0] ?? '')?.[1] ?? 'unknown');
}

function usageMetadata(s: MockScenario) {
  const u = s.usage ?? { input: 0, output: 0 };
  const thoughts = u.reasoning ?? 0;
  return {
    promptTokenCount: u.input,
    candidatesTokenCount: u.output - thoughts,
    totalTokenCount: u.input + u.output,
    ...(u.cached ? { cachedContentTokenCount: u.cached } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }],
    ...(u.cached ? { cacheTokensDetails: [{ modality: 'TEXT', tokenCount: u.cached }] } : {}),
    ...(thoughts ? { thoughtsTokenCount: thoughts } : {}),
  };
}

function finishOf(s: MockScenario): string {
  switch (s.finish) {
    case 'length':
      return 'MAX_TOKENS';
    case 'content_filter':
      return 'SAFETY';
    default:
      // Gemini has no tool-calls reason: a turn that calls functions ends with STOP.
      return 'STOP';
  }
}

function functionCallParts(s: MockScenario) {
  // Newer API versions send an `id` with each call; the mock does, so ids can be checked end to end.
  return (s.toolCalls ?? []).map((t) => ({ functionCall: { id: t.id, name: t.name, args: JSON.parse(t.arguments) as unknown } }));
}

const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

/** SSE events end with CR LF CR LF on Google's wire; the shared server adds a final `\n\n`, so the data carries the rest. */
function googleEvent(payload: unknown): MockEvent {
  return { data: `${JSON.stringify(payload)}\r\n\r` };
}

export const geminiDialect: MockDialect = {
  name: 'gemini',
  route(method, path) {
    if (method !== 'POST') return undefined;
    const op = ROUTE.exec(path)?.[2];
    if (op === 'generateContent' || op === 'streamGenerateContent') return 'chat';
    if (op === 'batchEmbedContents') return 'embeddings';
    return undefined;
  },
  isStream: (path) => /:streamGenerateContent\?(?:.*&)?alt=sse(?:&|$)/.test(path),
  success(s, _body, path) {
    const parts = [...(s.text ? [{ text: s.text }] : []), ...functionCallParts(s)];
    const candidate = {
      ...(parts.length > 0 ? { content: { parts, role: 'model' } } : {}),
      finishReason: finishOf(s),
      ...(s.finish === 'content_filter' ? { safetyRatings: [{ category: 'HARM_CATEGORY_HARASSMENT', probability: 'HIGH', blocked: true }] } : {}),
      index: 0,
    };
    const res = {
      candidates: [candidate],
      ...(s.omitUsage ? {} : { usageMetadata: usageMetadata(s) }),
      modelVersion: modelOf(path),
      responseId: 'mockResp_gemini_123',
    };
    // Without alt=sse, Google streams one JSON array of responses.
    return path.includes(':streamGenerateContent') ? [res] : res;
  },
  streamEvents(s, _body, path) {
    const meta = { modelVersion: modelOf(path), responseId: 'mockResp_gemini_123' };
    const u = s.usage ?? { input: 0, output: 0 };
    // Until the end, usage says only the prompt's size, as Google's does.
    const partialUsage = { promptTokenCount: u.input, totalTokenCount: u.input, promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.input }] };
    const event = (parts: unknown[], last: boolean): MockEvent =>
      googleEvent({
        candidates: [
          {
            content: { parts, role: 'model' },
            ...(last ? { finishReason: finishOf(s) } : {}),
            ...(last ? { safetyRatings: SAFETY_RATINGS } : {}),
            index: 0,
          },
        ],
        ...(s.omitUsage ? {} : { usageMetadata: last ? usageMetadata(s) : partialUsage }),
        ...meta,
      });
    const pieces: unknown[][] = textDeltas(s.text ?? '').map((text) => [{ text }]);
    const calls = functionCallParts(s);
    if (calls.length > 0) pieces.push(calls);
    if (pieces.length === 0) pieces.push([{ text: '' }]);
    return pieces.map((parts, i) => event(parts, i === pieces.length - 1));
  },
  streamErrorEvent(message) {
    return googleEvent({ error: { code: 500, message, status: 'INTERNAL' } });
  },
  errorBody(status, message, code) {
    const details: unknown[] = [];
    if (code !== undefined) details.push({ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: code, domain: 'googleapis.com' });
    if (status === 429) {
      details.push(
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaValue: '15' }],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${MOCK_RETRY_DELAY_S}s` },
      );
    }
    return {
      error: {
        code: status,
        message,
        status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
        ...(details.length > 0 ? { details } : {}),
      },
    };
  },
  embeddings(body) {
    const requests = (body as { requests?: Array<{ outputDimensionality?: number }> }).requests ?? [];
    return {
      embeddings: requests.map((r, i) => {
        const dims = r.outputDimensionality ?? 3;
        return { values: Array.from({ length: dims }, (_, d) => Number((0.1 * (i + 1) - 0.05 * d).toFixed(4))) };
      }),
    };
  },
};
