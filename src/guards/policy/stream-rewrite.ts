/**
 * Rewrites the text of a streamed answer in flight. Each choice's content deltas are held
 * and passed to a transform that says how much may go out now (the rest waits for more
 * text: a split placeholder, an entity still growing); whatever is held is flushed on the
 * choice's finish chunk or when the stream ends. Every part still goes out (its text may be shorter or empty), and
 * the provider's native events are dropped so the client's encoder renders the rewritten
 * canonical chunks.
 */
import type { ChatCompletionChunk } from '../../canonical.js';
import type { StreamPart } from '../../providers/types.js';

/**
 * Given a choice's held text, what to send now and what to keep holding; with `final` (the
 * choice finishes, or the stream ends), keep must be ''.
 */
export type TextTransform = (held: string, final: boolean, choice: number) => { emit: string; hold: string };

export interface StreamHandle {
  first: IteratorResult<StreamPart>;
  rest: AsyncIterator<StreamPart>;
}

/** The part with one choice's content replaced (the choice is added when the chunk has none). */
function withContent(p: StreamPart, index: number, content: string): StreamPart {
  const chunk = p.chunk!;
  const at = chunk.choices.findIndex((c) => c.index === index);
  const choices = chunk.choices.slice();
  if (at < 0) choices.push({ index, delta: { content }, finish_reason: null });
  else choices[at] = { ...choices[at]!, delta: { ...choices[at]!.delta, content } };
  return { ...(p.usage ? { usage: p.usage } : {}), chunk: { ...chunk, choices } };
}

export function stripNative(p: StreamPart): StreamPart {
  if (!p.native) return p;
  const { native: _native, ...rest } = p;
  return rest;
}

/**
 * Wraps a stream so every choice's content goes through `transform`, each choice with its
 * own held text; `onEnd` runs once the source is exhausted (before the last part is handed
 * on) and may throw to end the stream with an error. Tool-call arguments pass untouched.
 */
export function rewriteStream(s: StreamHandle, transform: TextTransform, onEnd?: () => void): StreamHandle {
  const held = new Map<number, string>();
  let last: ChatCompletionChunk | undefined;
  const feed = (raw: StreamPart): StreamPart => {
    let p = stripNative(raw);
    if (!p.chunk || p.chunk.choices.length === 0) return p;
    last = p.chunk;
    for (const choice of p.chunk.choices) {
      const text = choice.delta.content;
      const finishing = choice.finish_reason != null;
      const before = held.get(choice.index) ?? '';
      if (!text && !(finishing && before)) continue;
      const r = transform(before + (text ?? ''), finishing, choice.index);
      held.set(choice.index, finishing ? '' : r.hold);
      p = withContent(p, choice.index, finishing ? r.emit + r.hold : r.emit);
    }
    return p;
  };
  return mapStream(s, feed, () => {
    let tail: StreamPart | undefined;
    for (const [index, text] of held) {
      if (!text) continue;
      const r = transform(text, true, index);
      if (!(r.emit || r.hold) || !last) continue;
      tail = withContent(tail ?? { chunk: { ...last, choices: [] } }, index, r.emit + r.hold);
    }
    held.clear();
    onEnd?.();
    return tail;
  });
}

/**
 * Wraps a stream part by part: `feed` maps every part; once the source is exhausted, `end`
 * runs once and may return one last part (whatever was held back) before the stream ends.
 * `return` and `throw` reach the source.
 */
export function mapStream(s: StreamHandle, feed: (p: StreamPart) => StreamPart, end: () => StreamPart | undefined): StreamHandle {
  const src = s.rest;
  let ended = false;
  const first = s.first.done ? s.first : { done: false as const, value: feed(s.first.value) };
  const rest: AsyncIterator<StreamPart> = {
    async next() {
      if (ended) return { done: true, value: undefined };
      const step = await src.next();
      if (!step.done) return { done: false, value: feed(step.value) };
      ended = true;
      const tail = end();
      return tail ? { done: false, value: tail } : step;
    },
  };
  if (src.return) rest.return = (v?: unknown) => src.return!(v);
  if (src.throw) rest.throw = (e?: unknown) => src.throw!(e);
  return { first, rest };
}
