/**
 * OpenAI's wire format as a mock upstream: `/v1/chat/completions` (JSON and SSE with
 * `data: [DONE]`), `/v1/embeddings`, and Azure's `/openai/deployments/{d}/...` paths.
 */
import { argumentDeltas, textDeltas, type MockDialect, type MockEvent, type MockScenario } from './scenario.js';

function usage(s: MockScenario) {
  const u = s.usage ?? { input: 0, output: 0 };
  return {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: u.reasoning ?? 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function modelOf(body: unknown, path: string): string {
  const m = /\/deployments\/([^/]+)\//.exec(path);
  if (m) return decodeURIComponent(m[1]!);
  return String((body as { model?: unknown } | undefined)?.model ?? 'unknown');
}

function finishOf(s: MockScenario): string {
  return s.finish ?? (s.toolCalls?.length ? 'tool_calls' : 'stop');
}

export const openAIDialect: MockDialect = {
  name: 'openai',
  route(method, path) {
    if (method !== 'POST') return undefined;
    if (path.endsWith('/chat/completions')) return 'chat';
    if (path.endsWith('/embeddings')) return 'embeddings';
    return undefined;
  },
  isStream: (_path, body) => (body as { stream?: unknown } | undefined)?.stream === true,
  success(s, body, path) {
    return {
      id: 'chatcmpl-mock123',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: modelOf(body, path),
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: s.toolCalls?.length ? (s.text ?? null) : (s.text ?? ''),
            refusal: null,
            ...(s.toolCalls?.length
              ? { tool_calls: s.toolCalls.map((t) => ({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } })) }
              : {}),
          },
          logprobs: null,
          finish_reason: finishOf(s),
        },
        ...(s.moreChoices ?? []).map((text, i) => ({
          index: i + 1,
          message: { role: 'assistant', content: text, refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        })),
      ],
      ...(s.omitUsage ? {} : { usage: usage(s) }),
      system_fingerprint: 'fp_mock',
    };
  },
  streamEvents(s, body, path) {
    const model = modelOf(body, path);
    const base = { id: 'chatcmpl-mock123', object: 'chat.completion.chunk', created: 1_700_000_000, model, system_fingerprint: 'fp_mock' };
    const chunk = (delta: unknown, finish: string | null, index = 0): MockEvent => ({
      data: JSON.stringify({ ...base, choices: [{ index, delta, logprobs: null, finish_reason: finish }] }),
    });
    const events: MockEvent[] = [chunk({ role: 'assistant', content: s.toolCalls?.length ? null : '', refusal: null }, null)];
    for (const piece of textDeltas(s.text ?? '')) if (!s.toolCalls?.length) events.push(chunk({ content: piece }, null));
    for (const [index, t] of (s.toolCalls ?? []).entries()) {
      events.push(chunk({ tool_calls: [{ index, id: t.id, type: 'function', function: { name: t.name, arguments: '' } }] }, null));
      for (const a of argumentDeltas(t.arguments)) events.push(chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null));
    }
    events.push(chunk({}, finishOf(s)));
    for (const [i, text] of (s.moreChoices ?? []).entries()) {
      events.push(chunk({ role: 'assistant', content: '' }, null, i + 1));
      for (const piece of textDeltas(text)) events.push(chunk({ content: piece }, null, i + 1));
      events.push(chunk({}, 'stop', i + 1));
    }
    const wantsUsage = (body as { stream_options?: { include_usage?: boolean } }).stream_options?.include_usage === true;
    if (wantsUsage && !s.omitUsage) events.push({ data: JSON.stringify({ ...base, choices: [], usage: usage(s) }) });
    events.push({ data: '[DONE]' });
    return events;
  },
  streamErrorEvent(message) {
    return { data: JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } }) };
  },
  errorBody(status, message, code) {
    const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : status === 401 ? 'invalid_request_error' : 'invalid_request_error';
    return { error: { message, type, param: null, code: code ?? (status === 401 ? 'invalid_api_key' : null) } };
  },
  embeddings(body) {
    const input = (body as { input: unknown }).input;
    const inputs = Array.isArray(input) ? input : [input];
    return {
      object: 'list',
      data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.1 * (index + 1), 0.2, -0.3] })),
      model: String((body as { model?: unknown }).model),
      usage: { prompt_tokens: 5 * inputs.length, total_tokens: 5 * inputs.length },
    };
  },
};
