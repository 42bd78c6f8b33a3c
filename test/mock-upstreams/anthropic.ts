/**
 * Anthropic's Messages API as a mock upstream: `POST /v1/messages`, answering with the JSON
 * message and the SSE event sequence api.anthropic.com sends (`message_start`,
 * `content_block_start`, `ping`, `content_block_delta`, `content_block_stop`,
 * `message_delta`, `message_stop`), its error bodies and its in-stream `event: error`.
 */
import { argumentDeltas, textDeltas, type MockDialect, type MockEvent, type MockScenario } from './scenario.js';

export const MOCK_MESSAGE_ID = 'msg_01MockAnthropicAnswer0001';

const STOP_REASONS = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use', content_filter: 'refusal' } as const;

function stopReason(s: MockScenario): string {
  return STOP_REASONS[s.finish ?? (s.toolCalls?.length ? 'tool_calls' : 'stop')];
}

/** Anthropic counts cache reads and writes apart from `input_tokens`. */
function inputUsage(s: MockScenario): Record<string, unknown> {
  const u = s.usage ?? { input: 0, output: 0 };
  const cached = u.cached ?? 0;
  const written = u.cacheWrite ?? 0;
  return {
    input_tokens: u.input - cached - written,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    cache_creation: { ephemeral_5m_input_tokens: written, ephemeral_1h_input_tokens: 0 },
  };
}

function modelOf(body: unknown): string {
  return String((body as { model?: unknown } | undefined)?.model ?? 'unknown');
}

function contentOf(s: MockScenario): Array<Record<string, unknown>> {
  const content: Array<Record<string, unknown>> = [];
  if (s.text !== undefined && (s.text !== '' || !s.toolCalls?.length)) content.push({ type: 'text', text: s.text });
  for (const t of s.toolCalls ?? []) content.push({ type: 'tool_use', id: t.id, name: t.name, input: JSON.parse(t.arguments) as unknown });
  return content;
}

function ev(data: { type: string } & Record<string, unknown>): MockEvent {
  return { event: data.type, data: JSON.stringify(data) };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'overloaded_error',
  529: 'overloaded_error',
};

export const anthropicDialect: MockDialect = {
  name: 'anthropic',
  route: (method, path) => (method === 'POST' && path === '/v1/messages' ? 'chat' : undefined),
  isStream: (_path, body) => (body as { stream?: unknown } | undefined)?.stream === true,
  success(s, body) {
    return {
      id: MOCK_MESSAGE_ID,
      type: 'message',
      role: 'assistant',
      model: modelOf(body),
      content: contentOf(s),
      stop_reason: stopReason(s),
      stop_sequence: null,
      usage: s.omitUsage ? {} : { ...inputUsage(s), output_tokens: s.usage?.output ?? 0, service_tier: 'standard' },
    };
  },
  streamEvents(s, body) {
    const events: MockEvent[] = [
      ev({
        type: 'message_start',
        message: {
          id: MOCK_MESSAGE_ID,
          type: 'message',
          role: 'assistant',
          model: modelOf(body),
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: s.omitUsage ? {} : { ...inputUsage(s), output_tokens: 1, service_tier: 'standard' },
        },
      }),
    ];
    let index = 0;
    let pinged = false;
    const ping = (): void => {
      // Anthropic sends one ping right after the first block starts.
      if (!pinged) events.push({ event: 'ping', data: '{"type": "ping"}' });
      pinged = true;
    };
    if (s.text !== undefined && (s.text !== '' || !s.toolCalls?.length)) {
      events.push(ev({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
      ping();
      for (const piece of textDeltas(s.text)) events.push(ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }));
      events.push(ev({ type: 'content_block_stop', index }));
      index++;
    }
    for (const t of s.toolCalls ?? []) {
      events.push(ev({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: t.id, name: t.name, input: {} } }));
      ping();
      events.push(ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } }));
      for (const a of argumentDeltas(t.arguments)) events.push(ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: a } }));
      events.push(ev({ type: 'content_block_stop', index }));
      index++;
    }
    events.push(
      ev({
        type: 'message_delta',
        delta: { stop_reason: stopReason(s), stop_sequence: null },
        usage: s.omitUsage ? {} : { output_tokens: s.usage?.output ?? 0 },
      }),
    );
    events.push(ev({ type: 'message_stop' }));
    return events;
  },
  streamErrorEvent(message) {
    return ev({ type: 'error', error: { type: 'overloaded_error', message } });
  },
  errorBody(status, message) {
    const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return { type: 'error', error: { type, message }, request_id: 'req_011MockAnthropicRequest' };
  },
};
