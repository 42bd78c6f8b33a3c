/**
 * Input tokens of a request for reservations: counted exactly with the tokenizer for
 * ordinary prompts, estimated from UTF-8 bytes (3 per token, about o200k's density on code
 * and CJK, an overestimate for English) for very long ones, so the request path never spends
 * milliseconds tokenizing a 100k-token prompt. Settlement uses the real figure anyway.
 */
import { contentText, type ChatRequest, type EmbeddingsRequest } from '../canonical.js';
import { countChatInputTokens, countTokens } from '../token-counter.js';

/** Prompts longer than this (characters) are estimated rather than tokenized. */
export const EXACT_COUNT_MAX_CHARS = 8000;
const BYTES_PER_TOKEN = 3;

export function chatInputTokens(req: ChatRequest): number {
  let chars = 0;
  for (const m of req.messages) chars += contentText(m.content).length;
  if (chars <= EXACT_COUNT_MAX_CHARS) return countChatInputTokens(req);
  let bytes = 0;
  for (const m of req.messages) {
    bytes += Buffer.byteLength(contentText(m.content)) + 12;
    for (const tc of m.tool_calls ?? []) bytes += Buffer.byteLength(tc.function.name) + Buffer.byteLength(tc.function.arguments) + 9;
    if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'image_url') bytes += 85 * BYTES_PER_TOKEN;
  }
  if (req.tools?.length) bytes += Buffer.byteLength(JSON.stringify(req.tools));
  return Math.ceil(bytes / BYTES_PER_TOKEN) + 3;
}

export function embeddingsInputTokens(req: EmbeddingsRequest): number {
  const input = req.input;
  const text = typeof input === 'string' ? input : Array.isArray(input) ? input.filter((x) => typeof x === 'string').join('\n') : '';
  return text.length <= EXACT_COUNT_MAX_CHARS ? countTokens(text) : Math.ceil(Buffer.byteLength(text) / BYTES_PER_TOKEN);
}
