/**
 * Anthropic's Messages API ⇄ the canonical (OpenAI Chat Completions) shapes, every direction
 * in one module so the two sides cannot drift apart:
 *
 * - outbound, for the `anthropic` provider: {@link toAnthropicRequest},
 *   {@link fromAnthropicMessage}, and {@link AnthropicStreamDecoder} (SSE events → chunks);
 * - inbound, for `POST /v1/messages`: {@link fromAnthropicRequest},
 *   {@link toAnthropicMessage}, and {@link AnthropicStreamEncoder} (chunks → SSE events).
 *
 * What the canonical shape cannot say is dropped when translating *into* it: thinking blocks,
 * `top_k`, `thinking`, server tools and block types other than text, image, tool_use and
 * tool_result (documents, search results, server tool results). An Anthropic client routed to
 * an Anthropic target never goes through that loss: its original body is passed through.
 * `response_format` has no Anthropic equivalent; it becomes a system instruction asking for
 * JSON (and naming the schema), which models follow well but which is not enforced.
 *
 * Wire reference: https://docs.anthropic.com/en/api/messages and /en/api/messages-streaming
 */
import {
  contentText,
  requestedMaxTokens,
  usageFromOpenAI,
  usageToOpenAI,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type FinishReason,
  type ToolCall,
  type ToolCallDelta,
  type ToolChoice,
  type ToolDefinition,
  type Usage,
} from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import type { SseEvent } from '../../sse.js';
import type { StreamDecoder, StreamPart } from '../types.js';

// ---------------------------------------------------------------------------------------
// Wire types
// ---------------------------------------------------------------------------------------

export interface AnthropicTextBlock {
  type: 'text';
  text: string;
}

export type AnthropicImageSource = { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };

export interface AnthropicImageBlock {
  type: 'image';
  source: AnthropicImageSource;
}

export interface AnthropicToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
}

export interface AnthropicToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | AnthropicBlock[];
  is_error?: boolean;
}

export interface AnthropicThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface AnthropicRedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

/** A block llmops does not translate (documents, server tool use and results, ...). */
export interface AnthropicOtherBlock {
  type: string;
  [key: string]: unknown;
}

export type AnthropicKnownBlock =
  | AnthropicTextBlock
  | AnthropicImageBlock
  | AnthropicToolUseBlock
  | AnthropicToolResultBlock
  | AnthropicThinkingBlock
  | AnthropicRedactedThinkingBlock;

export type AnthropicBlock = AnthropicKnownBlock | AnthropicOtherBlock;

export const KNOWN_BLOCK_TYPES: ReadonlySet<string> = new Set<AnthropicKnownBlock['type']>([
  'text',
  'image',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
]);

/** The block as one of the types llmops translates, or undefined. */
function known(block: AnthropicBlock): AnthropicKnownBlock | undefined {
  return KNOWN_BLOCK_TYPES.has(block.type) ? (block as AnthropicKnownBlock) : undefined;
}

export interface AnthropicMessageParam {
  /** `system` turns inside `messages` are accepted by newer API versions; they are hoisted to `system`. */
  role: 'user' | 'assistant' | 'system';
  content: string | AnthropicBlock[];
}

export interface AnthropicCustomTool {
  type?: 'custom';
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
}

/** A server tool (`web_search_20250305`, `bash_20250124`, ...): Anthropic targets only. */
export interface AnthropicServerTool {
  type: string;
  name: string;
  [key: string]: unknown;
}

export type AnthropicTool = AnthropicCustomTool | AnthropicServerTool;

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string | AnthropicTextBlock[];
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: { user_id?: string | null };
  stream?: boolean;
  [key: string]: unknown;
}

export type AnthropicStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

export interface AnthropicUsage {
  /** Input tokens that were neither read from nor written to the prompt cache. */
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number } | null;
  [key: string]: unknown;
}

export interface AnthropicMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
  [key: string]: unknown;
}

export type AnthropicDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string }
  | { type: 'citations_delta'; citation: unknown };

export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicBlock }
  | { type: 'content_block_delta'; index: number; delta: AnthropicDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: AnthropicStopReason | null; stop_sequence: string | null };
      usage: AnthropicUsage;
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: { type: string; message: string } };

/** One SSE event as Anthropic names it: the `event:` field equals the data's `type`. */
export interface AnthropicSseEvent {
  event: AnthropicStreamEvent['type'];
  data: AnthropicStreamEvent;
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

export const DEFAULT_MAX_TOKENS = 4096;

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(message: string, param: string): LlmopsError {
  return new LlmopsError('invalid_request', `Invalid request: ${param}: ${message}`, { param });
}

/** Anthropic's usage (cache reads and writes counted apart from `input_tokens`) as canonical usage. */
export function usageFromAnthropic(u: AnthropicUsage | null | undefined): Usage | undefined {
  if (!u) return undefined;
  const cached = u.cache_read_input_tokens ?? 0;
  const written = u.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (u.input_tokens ?? 0) + cached + written,
    outputTokens: u.output_tokens ?? 0,
    cachedInputTokens: cached,
    cacheWriteTokens: written,
    reasoningTokens: u.output_tokens_details?.thinking_tokens ?? 0,
    estimated: false,
  };
}

/** Canonical usage as Anthropic reports it: `input_tokens` excludes cache reads and writes. */
export function usageToAnthropic(u: Usage | undefined): Required<Pick<AnthropicUsage, 'input_tokens' | 'output_tokens' | 'cache_creation_input_tokens' | 'cache_read_input_tokens'>> {
  if (!u) return { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 };
  return {
    input_tokens: Math.max(0, u.inputTokens - u.cachedInputTokens - u.cacheWriteTokens),
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cachedInputTokens,
    output_tokens: u.outputTokens,
  };
}

export function finishFromStopReason(r: AnthropicStopReason | null | undefined): FinishReason | null {
  switch (r) {
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return null;
  }
}

export function stopReasonFromFinish(f: FinishReason | null | undefined): AnthropicStopReason {
  switch (f) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** A `msg_` id for an answer that did not come from Anthropic (kept as is when it did). */
export function anthropicMessageId(id: string | undefined): string {
  if (id && id.startsWith('msg_')) return id;
  return `msg_${id || Math.random().toString(36).slice(2)}`;
}

// ---------------------------------------------------------------------------------------
// Outbound: canonical request → Anthropic request
// ---------------------------------------------------------------------------------------

export interface ToAnthropicOptions {
  /** `max_tokens` when the request sets none (Anthropic requires one); default {@link DEFAULT_MAX_TOKENS}. */
  defaultMaxTokens?: number | undefined;
}

type Turn = { role: 'user' | 'assistant'; content: AnthropicBlock[] };

/** An image URL as an Anthropic image block: `data:` URLs become base64 sources, http(s) URLs url sources. */
export function imageBlockFromUrl(url: string, param: string): AnthropicImageBlock {
  if (url.startsWith('data:')) {
    const m = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url);
    if (!m || !/;base64$/i.test(m[2] ?? '')) throw invalid('image data URLs must be base64 (data:<media type>;base64,<data>)', param);
    return { type: 'image', source: { type: 'base64', media_type: m[1]!, data: m[3]! } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw invalid('image URLs must be http(s) or base64 data: URLs', param);
}

function textBlocks(content: ChatMessage['content'], param: string, allowImages: boolean): AnthropicBlock[] {
  if (content == null) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  const out: AnthropicBlock[] = [];
  for (const [j, part] of content.entries()) {
    if (part.type === 'text') {
      if (part.text !== '') out.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url' && allowImages) {
      out.push(imageBlockFromUrl(part.image_url.url, `${param}[${j}].image_url.url`));
    } else {
      // Also reached at run time by part types the canonical type does not list (input_audio, file).
      const type = (part as { type: string }).type;
      throw new LlmopsError('unsupported_parameter', `Anthropic models do not accept '${type}' content parts here (${param}[${j}])`, {
        param: `${param}[${j}].type`,
      });
    }
  }
  return out;
}

/** Tool-call arguments as the object Anthropic wants in `tool_use.input`. */
function toolInput(args: string, param: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw invalid('tool call arguments must be a JSON object', param);
  }
  if (!isRecord(parsed)) throw invalid('tool call arguments must be a JSON object', param);
  return parsed;
}

function responseFormatInstruction(req: ChatRequest): string | undefined {
  const f = req.response_format;
  if (!f || f.type === 'text') return undefined;
  if (f.type === 'json_object') return 'Respond with a single valid JSON object and nothing else: no prose, no code fences.';
  const s = f.json_schema;
  return (
    `Respond with a single valid JSON value and nothing else (no prose, no code fences). ` +
    `It must conform to the JSON schema named "${s.name}"${s.description ? ` (${s.description})` : ''}: ` +
    JSON.stringify(s.schema ?? {})
  );
}

function toolChoiceToAnthropic(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', disable_parallel_tool_use: true } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...noParallel };
  if (choice === 'required') return { type: 'any', ...noParallel };
  return { type: 'tool', name: choice.function.name, ...noParallel };
}

/**
 * A canonical request as an Anthropic Messages request (without `stream`).
 *
 * @example
 * toAnthropicRequest({ model: 'x', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] }, 'claude-sonnet-4-5')
 * // → { model: 'claude-sonnet-4-5', max_tokens: 4096, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] }
 */
export function toAnthropicRequest(req: ChatRequest, model: string, opts: ToAnthropicOptions = {}): AnthropicRequest {
  if (req.n != null && req.n > 1) {
    throw new LlmopsError('unsupported_parameter', 'Anthropic models return one choice per request: n must be 1', { param: 'n' });
  }
  const system: string[] = [];
  const turns: Turn[] = [];
  const push = (role: Turn['role'], blocks: AnthropicBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    // Anthropic wants alternating turns: consecutive same-role messages become one turn.
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const [i, m] of req.messages.entries()) {
    const param = `messages[${i}]`;
    switch (m.role) {
      case 'system':
      case 'developer': {
        const text = contentText(m.content);
        if (text !== '') system.push(text);
        break;
      }
      case 'user':
        push('user', textBlocks(m.content, `${param}.content`, true));
        break;
      case 'assistant': {
        const blocks = textBlocks(m.content, `${param}.content`, false);
        for (const [j, tc] of (m.tool_calls ?? []).entries()) {
          blocks.push({
            type: 'tool_use',
            id: tc.id,
            name: tc.function.name,
            input: toolInput(tc.function.arguments, `${param}.tool_calls[${j}].function.arguments`),
          });
        }
        push('assistant', blocks);
        break;
      }
      case 'tool': {
        if (!m.tool_call_id) throw invalid('tool messages need a tool_call_id', `${param}.tool_call_id`);
        const content = typeof m.content === 'string' || m.content == null ? (m.content ?? '') : textBlocks(m.content, `${param}.content`, false);
        push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content }]);
        break;
      }
    }
  }
  const instruction = responseFormatInstruction(req);
  if (instruction) system.push(instruction);

  const out: AnthropicRequest = {
    model,
    max_tokens: requestedMaxTokens(req) ?? opts.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    messages: turns.map((t) => {
      const only = t.content.length === 1 ? t.content[0] : undefined;
      return { role: t.role, content: only?.type === 'text' ? (only as AnthropicTextBlock).text : t.content };
    }),
  };
  if (system.length === 1) out.system = system[0]!;
  else if (system.length > 1) out.system = system.map((text) => ({ type: 'text', text }));
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => ({
      name: t.function.name,
      ...(t.function.description === undefined ? {} : { description: t.function.description }),
      input_schema: t.function.parameters ?? { type: 'object', properties: {} },
    }));
    const choice = toolChoiceToAnthropic(req.tool_choice, req.parallel_tool_calls);
    if (choice) out.tool_choice = choice;
  }
  const stops = (req.stop == null ? [] : Array.isArray(req.stop) ? req.stop : [req.stop]).filter((s) => s !== '');
  if (stops.length > 0) out.stop_sequences = stops;
  if (req.temperature != null) out.temperature = req.temperature;
  if (req.top_p != null) out.top_p = req.top_p;
  if (req.user) out.metadata = { user_id: req.user };
  return out;
}

// ---------------------------------------------------------------------------------------
// Outbound: Anthropic message → canonical completion
// ---------------------------------------------------------------------------------------

/** An Anthropic message as a canonical completion: text joined, tool_use → tool_calls, thinking dropped. */
export function fromAnthropicMessage(msg: AnthropicMessage): { response: ChatCompletion; usage: Usage | undefined } {
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of msg.content) {
    const b = known(block);
    if (b?.type === 'text') text = (text ?? '') + b.text;
    else if (b?.type === 'tool_use') {
      toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    }
  }
  const usage = usageFromAnthropic(msg.usage);
  const response: ChatCompletion = {
    id: msg.id,
    object: 'chat.completion',
    created: nowSeconds(),
    model: msg.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text ?? (toolCalls.length > 0 ? null : ''),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
          refusal: null,
        },
        finish_reason: finishFromStopReason(msg.stop_reason),
        logprobs: null,
      },
    ],
    ...(usage ? { usage: usageToOpenAI(usage) } : {}),
  };
  return { response, usage };
}

/** Checks the shape of an upstream answer enough to translate it safely. */
export function asAnthropicMessage(body: unknown): AnthropicMessage | undefined {
  if (!isRecord(body) || body.type !== 'message' || !Array.isArray(body.content)) return undefined;
  for (const b of body.content) if (!isRecord(b) || typeof b.type !== 'string') return undefined;
  return body as AnthropicMessage;
}

// ---------------------------------------------------------------------------------------
// Outbound: Anthropic SSE events → canonical chunks
// ---------------------------------------------------------------------------------------

/**
 * Turns one Anthropic event stream into canonical parts. Every part carries the upstream
 * event verbatim in `native`, so an Anthropic client can be sent exactly what the upstream
 * said; `ping`, block stops and thinking deltas are native-only parts.
 */
export class AnthropicStreamDecoder implements StreamDecoder {
  private id = '';
  private model: string;
  private readonly created = nowSeconds();
  private usage: AnthropicUsage = {};
  /** Anthropic block index → OpenAI tool-call index. */
  private readonly toolIndex = new Map<number, number>();
  private stopped = false;

  constructor(
    private readonly name: string,
    model: string,
    private readonly clientWantsUsage: boolean,
  ) {
    this.model = model;
  }

  private fail(message: string): LlmopsError {
    return new LlmopsError('upstream_stream_error', `${this.name}: ${message}`, { provider: this.name });
  }

  private chunk(delta: ChatCompletionChunk['choices'][number]['delta'], finish: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    };
  }

  /** Usage counters are cumulative; later events overwrite what they report. */
  private mergeUsage(u: AnthropicUsage | null | undefined): Usage | undefined {
    if (!isRecord(u)) return undefined;
    for (const [k, v] of Object.entries(u)) if (v !== null && v !== undefined) this.usage[k] = v;
    return usageFromAnthropic(this.usage);
  }

  event(ev: SseEvent): StreamPart[] {
    if (this.stopped) return [];
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      throw this.fail('malformed event in the upstream stream');
    }
    if (!isRecord(data) || typeof data.type !== 'string') throw this.fail('upstream stream event without a type');
    const e = data as AnthropicStreamEvent;
    const part: StreamPart = { native: { format: 'anthropic', event: ev.event ?? e.type, data: ev.data } };
    switch (e.type) {
      case 'error': {
        const message = isRecord(e.error) && typeof e.error.message === 'string' ? e.error.message : 'error event in stream';
        const type = isRecord(e.error) && typeof e.error.type === 'string' ? ` (${e.error.type})` : '';
        throw this.fail(`${message}${type}`);
      }
      case 'message_start': {
        if (!isRecord(e.message)) throw this.fail('message_start without a message');
        this.id = String(e.message.id ?? '');
        if (typeof e.message.model === 'string') this.model = e.message.model;
        part.chunk = this.chunk({ role: 'assistant', content: '' });
        const usage = this.mergeUsage(e.message.usage);
        if (usage) part.usage = usage;
        break;
      }
      case 'content_block_start': {
        const b = isRecord(e.content_block) ? known(e.content_block) : undefined;
        if (b?.type === 'tool_use') {
          const index = this.toolIndex.size;
          this.toolIndex.set(e.index, index);
          part.chunk = this.chunk({ tool_calls: [{ index, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }] });
        } else if (b?.type === 'text' && b.text !== '') {
          part.chunk = this.chunk({ content: b.text });
        }
        break;
      }
      case 'content_block_delta': {
        const d = isRecord(e.delta) ? e.delta : undefined;
        if (d?.type === 'text_delta' && typeof d.text === 'string') {
          part.chunk = this.chunk({ content: d.text });
        } else if (d?.type === 'input_json_delta' && typeof d.partial_json === 'string' && d.partial_json !== '') {
          // Server tool blocks (server_tool_use) stream input too: those stay native-only.
          const index = this.toolIndex.get(e.index);
          if (index !== undefined) part.chunk = this.chunk({ tool_calls: [{ index, function: { arguments: d.partial_json } }] });
        }
        break;
      }
      case 'message_delta': {
        const stop = isRecord(e.delta) ? e.delta.stop_reason : undefined;
        part.chunk = this.chunk({}, finishFromStopReason(stop) ?? 'stop');
        const usage = this.mergeUsage(e.usage);
        if (usage) part.usage = usage;
        break;
      }
      case 'message_stop': {
        this.stopped = true;
        // An OpenAI client that asked for usage gets it in a last, choice-less chunk.
        const usage = usageFromAnthropic(this.usage);
        if (this.clientWantsUsage && usage) {
          part.chunk = { ...this.chunk({}), choices: [], usage: usageToOpenAI(usage) };
          part.usage = usage;
        }
        break;
      }
      default:
        // ping, content_block_stop, and event types newer than this code: native only.
        break;
    }
    return [part];
  }

  end(): StreamPart[] {
    if (!this.stopped) throw this.fail('the upstream stream ended before message_stop (truncated answer)');
    return [];
  }
}

// ---------------------------------------------------------------------------------------
// Inbound: Anthropic request → canonical request
// ---------------------------------------------------------------------------------------

/** The text of text blocks, joined. */
function blockText(blocks: AnthropicBlock[], separator: string): string {
  const texts: string[] = [];
  for (const block of blocks) {
    const b = known(block);
    if (b?.type === 'text') texts.push(b.text);
  }
  return texts.join(separator);
}

/** System prompt blocks become one string: the widest-supported form for OpenAI-style upstreams. */
function systemText(content: string | AnthropicBlock[]): string {
  return typeof content === 'string' ? content : blockText(content, '\n\n');
}

function imageUrlOf(b: AnthropicImageBlock): string {
  return b.source.type === 'base64' ? `data:${b.source.media_type};base64,${b.source.data}` : b.source.url;
}

function toolResultText(b: AnthropicToolResultBlock): string {
  const c = b.content;
  // Images inside tool results have no place in an OpenAI tool message: only the text goes.
  const text = c === undefined ? '' : typeof c === 'string' ? c : blockText(c, '\n');
  // OpenAI tool messages have no error flag: say it in the text the model reads.
  return b.is_error ? `Error: ${text}` : text;
}

function fromUserTurn(content: string | AnthropicBlock[], out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'user', content });
    return;
  }
  const parts: ContentPart[] = [];
  for (const block of content) {
    const b = known(block);
    if (b?.type === 'tool_result') out.push({ role: 'tool', tool_call_id: b.tool_use_id, content: toolResultText(b) });
    else if (b?.type === 'text') parts.push({ type: 'text', text: b.text });
    else if (b?.type === 'image') parts.push({ type: 'image_url', image_url: { url: imageUrlOf(b) } });
  }
  if (parts.length === 0) return;
  const only = parts.length === 1 ? parts[0] : undefined;
  out.push({ role: 'user', content: only?.type === 'text' ? only.text : parts });
}

function fromAssistantTurn(content: string | AnthropicBlock[], out: ChatMessage[]): void {
  if (typeof content === 'string') {
    out.push({ role: 'assistant', content });
    return;
  }
  let text: string | null = null;
  const toolCalls: ToolCall[] = [];
  for (const block of content) {
    const b = known(block);
    if (b?.type === 'text') text = (text ?? '') + b.text;
    else if (b?.type === 'tool_use') {
      toolCalls.push({ id: b.id, type: 'function', function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
    }
  }
  if (text === null && toolCalls.length === 0) return;
  out.push({ role: 'assistant', content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) });
}

function isCustomTool(t: AnthropicTool): t is AnthropicCustomTool {
  return (t.type === undefined || t.type === 'custom') && isRecord((t as { input_schema?: unknown }).input_schema);
}

/** An Anthropic Messages request as a canonical request (see the module comment for what is dropped). */
export function fromAnthropicRequest(body: AnthropicRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  if (body.system !== undefined) {
    const text = systemText(body.system);
    if (text !== '') messages.push({ role: 'system', content: text });
  }
  for (const m of body.messages) {
    if (m.role === 'system') {
      const text = systemText(m.content);
      if (text !== '') messages.push({ role: 'system', content: text });
    } else if (m.role === 'user') fromUserTurn(m.content, messages);
    else fromAssistantTurn(m.content, messages);
  }
  const req: ChatRequest = { model: body.model, messages, max_tokens: body.max_tokens };
  const tools: ToolDefinition[] = (body.tools ?? []).filter(isCustomTool).map((t) => ({
    type: 'function',
    function: { name: t.name, ...(t.description === undefined ? {} : { description: t.description }), parameters: t.input_schema },
  }));
  if (tools.length > 0) {
    req.tools = tools;
    const c = body.tool_choice;
    if (c) {
      req.tool_choice = c.type === 'auto' ? 'auto' : c.type === 'any' ? 'required' : c.type === 'none' ? 'none' : { type: 'function', function: { name: c.name } };
      if (c.type !== 'none' && c.disable_parallel_tool_use === true) req.parallel_tool_calls = false;
    }
  }
  if (body.stop_sequences?.length) req.stop = body.stop_sequences;
  if (body.temperature !== undefined) req.temperature = body.temperature;
  if (body.top_p !== undefined) req.top_p = body.top_p;
  if (typeof body.metadata?.user_id === 'string' && body.metadata.user_id !== '') req.user = body.metadata.user_id;
  if (body.stream === true) req.stream = true;
  return req;
}

// ---------------------------------------------------------------------------------------
// Inbound: canonical completion → Anthropic message
// ---------------------------------------------------------------------------------------

/** A tool call's JSON arguments as the object Anthropic clients expect (`{}` when they are not an object). */
function inputObject(args: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(args);
    return isRecord(v) ? v : {};
  } catch {
    return {};
  }
}

/** A canonical completion as an Anthropic message named after the model the client asked for. */
export function toAnthropicMessage(res: ChatCompletion, usage: Usage | undefined, model: string): AnthropicMessage {
  const choice = res.choices[0];
  const msg = choice?.message;
  const content: AnthropicBlock[] = [];
  const text = msg?.content || msg?.refusal || '';
  if (text !== '') content.push({ type: 'text', text });
  for (const tc of msg?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: tc.id, name: tc.function.name, input: inputObject(tc.function.arguments) });
  }
  return {
    id: anthropicMessageId(res.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReasonFromFinish(choice?.finish_reason),
    stop_sequence: null,
    usage: usageToAnthropic(usage ?? usageFromOpenAI(res.usage)),
  };
}

// ---------------------------------------------------------------------------------------
// Inbound: canonical chunks → Anthropic SSE events
// ---------------------------------------------------------------------------------------

/**
 * Writes a canonical stream as Anthropic's event sequence: `message_start`, then per content
 * block `content_block_start` / `_delta` / `_stop` (text blocks and tool_use blocks with
 * `input_json_delta`), then `message_delta` (stop reason and usage) and `message_stop`.
 * Usage usually arrives last in canonical streams, so `message_start` reports what is known
 * by then (often zeros) and `message_delta` carries the full, cumulative counts.
 *
 * @example
 * const enc = new AnthropicStreamEncoder('claude-sonnet');
 * enc.part({ chunk }); // → [{ event: 'message_start', ... }, { event: 'content_block_start', ... }, ...]
 * enc.end(); // → [..., { event: 'message_delta', ... }, { event: 'message_stop', ... }]
 */
export class AnthropicStreamEncoder {
  private started = false;
  private blocks = 0;
  private open: { index: number; kind: 'text' | 'tool_use' } | undefined;
  /** Canonical tool-call index → Anthropic block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: AnthropicStopReason | null = null;
  private usage: Usage | undefined;

  constructor(private readonly model: string) {}

  private start(id: string | undefined, out: AnthropicSseEvent[]): void {
    if (this.started) return;
    this.started = true;
    const message: AnthropicMessage = {
      id: anthropicMessageId(id),
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usageToAnthropic(this.usage),
    };
    out.push({ event: 'message_start', data: { type: 'message_start', message } });
  }

  private close(out: AnthropicSseEvent[]): void {
    if (this.open === undefined) return;
    out.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index: this.open.index } });
    this.open = undefined;
  }

  /** Blocks are written one after another: opening one closes the previous one. */
  private openBlock(block: AnthropicTextBlock | AnthropicToolUseBlock, out: AnthropicSseEvent[]): number {
    this.close(out);
    const index = this.blocks++;
    this.open = { index, kind: block.type };
    out.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: block } });
    return index;
  }

  private text(text: string, out: AnthropicSseEvent[]): void {
    const index = this.open?.kind === 'text' ? this.open.index : this.openBlock({ type: 'text', text: '' }, out);
    out.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text } } });
  }

  private toolCall(tc: ToolCallDelta, out: AnthropicSseEvent[]): void {
    let index = this.toolBlocks.get(tc.index);
    if (index === undefined) {
      const block: AnthropicToolUseBlock = { type: 'tool_use', id: tc.id ?? `toolu_${this.blocks}`, name: tc.function?.name ?? '', input: {} };
      index = this.openBlock(block, out);
      this.toolBlocks.set(tc.index, index);
    }
    // Interleaved argument deltas (rare) still go to their own block's index.
    const args = tc.function?.arguments;
    if (args) {
      out.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } } });
    }
  }

  part(p: StreamPart): AnthropicSseEvent[] {
    const out: AnthropicSseEvent[] = [];
    if (p.usage) this.usage = p.usage;
    const chunk = p.chunk;
    if (!chunk) return out;
    this.start(chunk.id, out);
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d = choice.delta;
    if (d.content) this.text(d.content, out);
    if (d.refusal) this.text(d.refusal, out);
    for (const tc of d.tool_calls ?? []) this.toolCall(tc, out);
    if (choice.finish_reason) {
      this.close(out);
      this.stopReason = stopReasonFromFinish(choice.finish_reason);
    }
    return out;
  }

  end(): AnthropicSseEvent[] {
    const out: AnthropicSseEvent[] = [];
    this.start(undefined, out);
    this.close(out);
    out.push({
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null },
        usage: usageToAnthropic(this.usage),
      },
    });
    out.push({ event: 'message_stop', data: { type: 'message_stop' } });
    return out;
  }
}
