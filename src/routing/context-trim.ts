/**
 * Opt-in context trimming (a route's `trim:`): a conversation longer than a token budget is
 * cut from the oldest turns. System and developer messages are always kept, and so are the
 * `keep_recent` latest messages; an assistant message with tool calls and the tool results
 * answering it are kept or dropped together, never split.
 */
import type { ChatMessage, ChatRequest } from '../canonical.js';
import type { TrimConfig } from '../config/schema.js';
import { countMessageTokens, countTokens } from '../token-counter.js';

export interface TrimResult {
  messages: ChatMessage[];
  droppedMessages: number;
  droppedTokens: number;
  /** Input tokens before and after (counted as {@link countChatInputTokens} does). */
  inputTokensBefore: number;
  inputTokensAfter: number;
}

const pinned = (m: ChatMessage): boolean => m.role === 'system' || m.role === 'developer';

/**
 * Characters are an upper bound on tokens for ordinary text (a token is at least one
 * character), so a conversation whose characters fit the budget is not tokenized at all.
 */
function charBound(req: ChatRequest): number {
  let n = 3 + (req.tools?.length ? JSON.stringify(req.tools).length : 0);
  for (const m of req.messages) {
    n += 4 + (m.name?.length ?? 0);
    if (typeof m.content === 'string') n += m.content.length;
    else if (Array.isArray(m.content)) for (const p of m.content) n += p.type === 'text' ? p.text.length : 85;
    for (const tc of m.tool_calls ?? []) n += 3 + tc.function.name.length + tc.function.arguments.length;
  }
  return n;
}

/**
 * Trims `req.messages` to `cfg.max_input_tokens`; `undefined` when the request already fits.
 *
 * @example
 * trimContext(req, { max_input_tokens: 4000, keep_recent: 2 })?.droppedMessages; // → 12
 */
export function trimContext(req: ChatRequest, cfg: TrimConfig): TrimResult | undefined {
  if (charBound(req) <= cfg.max_input_tokens) return undefined;
  const msgs = req.messages;
  const tokens = msgs.map(countMessageTokens);
  const fixed = 3 + (req.tools?.length ? countTokens(JSON.stringify(req.tools)) : 0);
  const total = tokens.reduce((s, n) => s + n, fixed);
  if (total <= cfg.max_input_tokens) return undefined;

  // Units of the droppable history, oldest first: one message, or an assistant tool-call
  // message with the tool results that follow it.
  const units: Array<{ start: number; end: number; tokens: number }> = [];
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (pinned(m)) continue;
    const prev = units[units.length - 1];
    if (m.role === 'tool' && prev && (msgs[prev.end]!.role === 'tool' || msgs[prev.end]!.tool_calls?.length)) {
      prev.end = i;
      prev.tokens += tokens[i]!;
    } else {
      units.push({ start: i, end: i, tokens: tokens[i]! });
    }
  }

  let used = fixed;
  for (let i = 0; i < msgs.length; i++) if (pinned(msgs[i]!)) used += tokens[i]!;
  // Walk back from the newest unit; the first that does not fit ends the kept window.
  let firstKept = units.length;
  let keptMessages = 0;
  for (let u = units.length - 1; u >= 0; u--) {
    const unit = units[u]!;
    const forced = keptMessages < cfg.keep_recent;
    if (!forced && used + unit.tokens > cfg.max_input_tokens) break;
    used += unit.tokens;
    keptMessages += unit.end - unit.start + 1;
    firstKept = u;
  }
  // Start the kept history at a user turn when one is in it (some providers require it).
  let lastUserUnit = -1;
  for (let u = units.length - 1; u >= 0 && lastUserUnit < 0; u--) if (msgs[units[u]!.start]!.role === 'user') lastUserUnit = u;
  while (firstKept < units.length - 1 && msgs[units[firstKept]!.start]!.role !== 'user' && keptMessages - (units[firstKept]!.end - units[firstKept]!.start + 1) >= cfg.keep_recent) {
    const u = units[firstKept]!;
    if (lastUserUnit <= firstKept) break; // no user turn later in the history
    used -= u.tokens;
    keptMessages -= u.end - u.start + 1;
    firstKept++;
  }
  if (firstKept === 0) return undefined;

  const dropFrom = units[0]!.start;
  const keepFrom = units[firstKept]!.start;
  const messages: ChatMessage[] = [];
  let droppedMessages = 0;
  let droppedTokens = 0;
  for (let i = 0; i < msgs.length; i++) {
    const m = msgs[i]!;
    if (i >= dropFrom && i < keepFrom && !pinned(m)) {
      droppedMessages++;
      droppedTokens += tokens[i]!;
    } else {
      messages.push(m);
    }
  }
  return { messages, droppedMessages, droppedTokens, inputTokensBefore: total, inputTokensAfter: total - droppedTokens };
}
