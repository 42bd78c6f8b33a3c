/**
 * Token counting for when a provider reports no usage (and for the demo provider), with
 * OpenAI's o200k_base encoding. The encoder's tables are loaded on first use only, so a
 * gateway whose providers all report usage never pays their memory.
 */
import { createRequire } from 'node:module';
import { contentText, type ChatMessage, type ChatRequest, type EmbeddingsRequest, type Usage } from './canonical.js';

type Encoder = { countTokens(text: string): number };
let encoder: Encoder | undefined;

function load(): Encoder {
  encoder ??= createRequire(import.meta.url)('gpt-tokenizer') as Encoder;
  return encoder;
}

/**
 * Runs of this many characters without a break (no spaces: a long word, a base64 blob, CJK
 * text, or whitespace) are counted in pieces of this size. BPE merges within a pre-token
 * cost the square of its length: 100,000 'a's took 9.7 s and 400,000 took 139 s of the event
 * loop. A cut inside a run can add about one token per piece.
 */
export const TOKEN_RUN_PIECE = 256;
const LONG_RUN = new RegExp(`\\S{${TOKEN_RUN_PIECE},}|\\s{${TOKEN_RUN_PIECE},}`, 'g');

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const enc = load();
  LONG_RUN.lastIndex = 0;
  if (text.length < TOKEN_RUN_PIECE || !LONG_RUN.test(text)) return enc.countTokens(text);
  let n = 0;
  let start = 0;
  LONG_RUN.lastIndex = 0;
  for (const m of text.matchAll(LONG_RUN)) {
    if (m.index > start) n += enc.countTokens(text.slice(start, m.index));
    const end = m.index + m[0].length;
    for (let i = m.index; i < end; ) {
      let cut = Math.min(end, i + TOKEN_RUN_PIECE);
      // Never between the two halves of a surrogate pair (an emoji, a rare CJK character).
      if (cut < end && (text.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut++;
      n += enc.countTokens(text.slice(i, cut));
      i = cut;
    }
    start = end;
  }
  if (start < text.length) n += enc.countTokens(text.slice(start));
  return n;
}

/** Fixed cost OpenAI documents for an image at low detail; a floor when dimensions are unknown. */
const IMAGE_TOKENS = 85;

/** Input tokens of a chat request, counted the way OpenAI's cookbook does (3 per message, 3 to prime the reply). */
export function countChatInputTokens(req: ChatRequest): number {
  let n = 3;
  for (const m of req.messages) n += countMessageTokens(m);
  if (req.tools?.length) n += countTokens(JSON.stringify(req.tools));
  return n;
}

/** One message's share of {@link countChatInputTokens}. */
export function countMessageTokens(m: ChatMessage): number {
  let n = 3 + countTokens(contentText(m.content));
  if (Array.isArray(m.content)) for (const p of m.content) if (p.type === 'image_url') n += IMAGE_TOKENS;
  if (m.name) n += 1 + countTokens(m.name);
  for (const tc of m.tool_calls ?? []) n += 3 + countTokens(tc.function.name) + countTokens(tc.function.arguments);
  return n;
}

/** An embeddings call's usage when the provider reported none: its text inputs counted (token-array inputs count 0). */
export function estimateEmbeddingsUsage(req: EmbeddingsRequest): Usage {
  const input = req.input;
  const text = typeof input === 'string' ? input : Array.isArray(input) ? input.filter((x) => typeof x === 'string').join('\n') : '';
  return { inputTokens: countTokens(text), outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0, estimated: true };
}

type Decoder = { decode(tokens: readonly number[]): string };
let cl100k: Decoder | undefined;

/**
 * Token ids back as text with cl100k_base, the encoding of OpenAI's embedding models (what
 * `/v1/embeddings` token-array inputs are written in). Throws on an id the encoding lacks.
 */
export function decodeEmbeddingTokens(tokens: readonly number[]): string {
  cl100k ??= createRequire(import.meta.url)('gpt-tokenizer/encoding/cl100k_base') as Decoder;
  return cl100k.decode(tokens);
}
