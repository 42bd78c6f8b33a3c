/**
 * `POST /v1/messages`: Anthropic's Messages API, inbound. The zod schema is the contract.
 * The canonical request goes to non-Anthropic targets; Anthropic targets get the client's
 * original body (`native`) and their answer, events included, goes back verbatim. Answers
 * from other providers are translated into Anthropic's message and event shapes.
 */
import { z } from 'zod';
import type { LlmopsError } from '../errors.js';
import {
  AnthropicStreamEncoder,
  fromAnthropicRequest,
  KNOWN_BLOCK_TYPES,
  toAnthropicMessage,
  type AnthropicRequest,
  type AnthropicSseEvent,
} from '../providers/anthropic/translate.js';
import type { StreamPart } from '../providers/types.js';
import { sseFrame } from '../sse.js';
import type { InboundFormat, ParsedRequest, StreamEncoder } from './types.js';
import { parseBody } from './validation.js';

const CacheControl = z.looseObject({ type: z.string() }).nullable().optional();

const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string(), cache_control: CacheControl });
const ImageBlock = z.looseObject({
  type: z.literal('image'),
  source: z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('base64'), media_type: z.string().min(1), data: z.string().min(1) }),
    z.looseObject({ type: z.literal('url'), url: z.url() }),
  ]),
  cache_control: CacheControl,
});
/** Block types llmops does not translate: accepted so they reach Anthropic targets untouched. */
const OtherBlock = z.looseObject({
  type: z.string().refine((t) => !KNOWN_BLOCK_TYPES.has(t), { message: 'invalid content block' }),
});
const ToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string().min(1),
  name: z.string().min(1),
  input: z.record(z.string(), z.unknown()),
});
const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string().min(1),
  content: z.union([z.string(), z.array(z.union([TextBlock, ImageBlock, OtherBlock]))]).optional(),
  is_error: z.boolean().optional(),
  cache_control: CacheControl,
});
const ThinkingBlock = z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() });
const RedactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() });

const Block = z.union([
  z.discriminatedUnion('type', [TextBlock, ImageBlock, ToolUseBlock, ToolResultBlock, ThinkingBlock, RedactedThinkingBlock]),
  OtherBlock,
]);

const Message = z.looseObject({
  role: z.enum(['user', 'assistant', 'system']),
  content: z.union([z.string(), z.array(Block)]),
});

const CustomTool = z.looseObject({
  type: z.literal('custom').optional(),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'must be 1-128 letters, digits, _ or -'),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});
/** Server tools (web search, code execution, ...): passed through to Anthropic targets only. */
const ServerTool = z.looseObject({ type: z.string().refine((t) => t !== 'custom'), name: z.string().min(1) });

const ToolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('tool'), name: z.string().min(1), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('none') }),
]);

export const AnthropicRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(z.union([CustomTool, ServerTool])).optional(),
  tool_choice: ToolChoice.optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
  stream: z.boolean().optional(),
  /** Extended thinking config, passed through to Anthropic targets. */
  thinking: z.looseObject({ type: z.string() }).optional(),
});

/** Anthropic's error types, from our error's type and status. */
export function anthropicErrorType(err: LlmopsError): string {
  if (err.status === 413) return 'request_too_large';
  switch (err.type) {
    case 'invalid_request_error':
    case 'authentication_error':
    case 'permission_error':
    case 'not_found_error':
    case 'rate_limit_error':
    case 'overloaded_error':
      return err.type;
    default:
      return 'api_error';
  }
}

export function toAnthropicErrorBody(err: LlmopsError): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: anthropicErrorType(err), message: err.message } };
}

/** One SSE frame; multi-line data (legal in SSE, never sent by Anthropic) gets one `data:` line each. */
function frame(event: string, data: string): string {
  return `event: ${event}\n${data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('')}\n`;
}

function frames(events: AnthropicSseEvent[]): string {
  let out = '';
  for (const e of events) out += sseFrame(JSON.stringify(e.data), e.event);
  return out;
}

/**
 * Passes an Anthropic upstream's events through as they came; translates any other
 * provider's canonical chunks into Anthropic events.
 */
class AnthropicMessagesStreamEncoder implements StreamEncoder {
  private passthrough = false;
  private readonly translate: AnthropicStreamEncoder;

  constructor(requestedModel: string) {
    this.translate = new AnthropicStreamEncoder(requestedModel);
  }

  part(p: StreamPart): string {
    if (p.native?.format === 'anthropic') {
      this.passthrough = true;
      return frame(p.native.event ?? 'message', p.native.data);
    }
    return this.passthrough ? '' : frames(this.translate.part(p));
  }

  end(): string {
    return this.passthrough ? '' : frames(this.translate.end());
  }

  error(err: LlmopsError): string {
    return sseFrame(JSON.stringify(toAnthropicErrorBody(err)), 'error');
  }
}

export const anthropicMessages: InboundFormat = {
  name: 'anthropic-messages',
  endpoint: 'messages',
  parse(body): ParsedRequest {
    const parsed: AnthropicRequest = parseBody(AnthropicRequestSchema, body);
    return {
      kind: 'chat',
      request: fromAnthropicRequest(parsed),
      stream: parsed.stream === true,
      // The body as the client sent it, for lossless passthrough to Anthropic targets.
      native: { format: 'anthropic', body: body as Record<string, unknown> },
    };
  },
  renderChat(result, requestedModel) {
    if (result.native?.format === 'anthropic') return JSON.stringify(result.native.body);
    return JSON.stringify(toAnthropicMessage(result.response, result.usage, requestedModel));
  },
  renderEmbeddings() {
    throw new Error('anthropic-messages renders no embeddings');
  },
  streamEncoder(requestedModel) {
    return new AnthropicMessagesStreamEncoder(requestedModel);
  },
  errorBody(err) {
    return JSON.stringify(toAnthropicErrorBody(err));
  },
};
