/**
 * Output caps: a route's or target's `max_output_tokens` bounds the caller's `max_tokens`.
 * A larger value is lowered; a missing one is set, in the field the provider expects.
 */
import type { ChatRequest } from '../canonical.js';
import type { ProviderType } from '../providers/types.js';

export interface OutputCap {
  /** The caller's max_tokens / max_completion_tokens, null when it set none. */
  requested: number | null;
  /** What was sent upstream. */
  applied: number;
}

/** OpenAI's own APIs want `max_completion_tokens` (reasoning models reject `max_tokens`); others know `max_tokens`. */
function fieldFor(type: ProviderType): 'max_tokens' | 'max_completion_tokens' {
  return type === 'openai' || type === 'azure-openai' ? 'max_completion_tokens' : 'max_tokens';
}

/**
 * The request with its output bounded by `cap`, or the same object when it already is.
 *
 * @example
 * capOutput({ model: 'm', messages: [], max_tokens: 9000 }, 1024, 'anthropic').body.max_tokens; // → 1024
 */
export function capOutput(req: ChatRequest, cap: number, type: ProviderType): { body: ChatRequest; cap: OutputCap } {
  const requested = req.max_completion_tokens ?? req.max_tokens ?? null;
  if (requested !== null && requested <= cap) return { body: req, cap: { requested, applied: requested } };
  const body: ChatRequest = { ...req };
  if (req.max_completion_tokens != null) body.max_completion_tokens = cap;
  if (req.max_tokens != null) body.max_tokens = cap;
  if (requested === null) body[fieldFor(type)] = cap;
  return { body, cap: { requested, applied: cap } };
}
