/**
 * `POST /v1/chat/completions`: OpenAI's Chat Completions API, inbound. The zod schema is
 * the contract; unknown top-level fields are kept and passed to OpenAI-style upstreams.
 */
import { z } from 'zod';
import type { ChatRequest } from '../canonical.js';
import { toOpenAIErrorBody, type LlmopsError } from '../errors.js';
import type { StreamPart } from '../providers/types.js';
import { sseFrame } from '../sse.js';
import type { InboundFormat, ParsedRequest, StreamEncoder } from './types.js';
import { parseBody } from './validation.js';

const TextPart = z.object({ type: z.literal('text'), text: z.string() });
const ImagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.object({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const OtherPart = z.looseObject({ type: z.enum(['input_audio', 'file']) });
const UserPart = z.discriminatedUnion('type', [TextPart, ImagePart, OtherPart]);

const ToolCall = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});

const textContent = z.union([z.string(), z.array(TextPart)]);

const Message = z.discriminatedUnion('role', [
  z.looseObject({ role: z.literal('system'), content: textContent, name: z.string().optional() }),
  z.looseObject({ role: z.literal('developer'), content: textContent, name: z.string().optional() }),
  z.looseObject({ role: z.literal('user'), content: z.union([z.string(), z.array(UserPart)]), name: z.string().optional() }),
  z.looseObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(TextPart), z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCall).optional(),
    refusal: z.string().nullable().optional(),
  }),
  z.looseObject({ role: z.literal('tool'), content: textContent, tool_call_id: z.string().min(1) }),
]);

const Tool = z.object({
  type: z.literal('function'),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullable().optional(),
  }),
});

const ToolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }) }),
]);

const ResponseFormat = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }),
  z.object({ type: z.literal('json_object') }),
  z.object({
    type: z.literal('json_schema'),
    json_schema: z.object({
      name: z.string().min(1),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
]);

const optNum = (s: z.ZodNumber) => s.nullable().optional();

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(Message).min(1),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional(),
  response_format: ResponseFormat.optional(),
  temperature: optNum(z.number().min(0).max(2)),
  top_p: optNum(z.number().min(0).max(1)),
  max_tokens: optNum(z.number().int().positive()),
  max_completion_tokens: optNum(z.number().int().positive()),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullable().optional(),
  seed: optNum(z.number().int()),
  user: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullable().optional(),
  n: optNum(z.number().int().min(1).max(128)),
  presence_penalty: optNum(z.number().min(-2).max(2)),
  frequency_penalty: optNum(z.number().min(-2).max(2)),
});

class OpenAIStreamEncoder implements StreamEncoder {
  part(p: StreamPart): string {
    if (!p.chunk) return '';
    return sseFrame(p.native?.format === 'openai' ? p.native.data : JSON.stringify(p.chunk));
  }
  end(): string {
    return 'data: [DONE]\n\n';
  }
  error(err: LlmopsError): string {
    return sseFrame(JSON.stringify(toOpenAIErrorBody(err)));
  }
}

export const openAIChat: InboundFormat = {
  name: 'openai-chat',
  endpoint: 'chat',
  parse(body): ParsedRequest {
    const request = parseBody(ChatRequestSchema, body) as ChatRequest;
    return { kind: 'chat', request, stream: request.stream === true };
  },
  renderChat(result) {
    // An OpenAI-format upstream's answer goes out exactly as it came.
    return result.native?.format === 'openai' && result.native.text !== undefined ? result.native.text : JSON.stringify(result.response);
  },
  renderEmbeddings() {
    throw new Error('openai-chat renders no embeddings');
  },
  streamEncoder() {
    return new OpenAIStreamEncoder();
  },
  errorBody(err) {
    return JSON.stringify(toOpenAIErrorBody(err));
  },
};
