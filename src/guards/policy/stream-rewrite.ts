/**
 * Rewrites the text of a streamed answer in flight. Content deltas are held and passed to
 * a transform that says how much may go out now (the rest waits for more text: a split
 * placeholder, an entity still growing); whatever is held is flushed on the finish chunk or
 * when the stream ends. Every part still goes out (its text may be shorter or empty), and
 * the provider's native events are dropped so the client's encoder renders the rewritten
 * canonical chunks.
 */
import type { ChatCompletionChunk } from '../../canonical.js';
import type { StreamPart } from '../../providers/types.js';

/** Given the held text, what to send now and what to keep holding; with `final`, keep must be ''. */
export type TextTransform = (held: string, final: boolean) => { emit: string; hold: string };

export interface StreamHandle {
  first: IteratorResult<StreamPart>;
  rest: AsyncIterator<StreamPart>;
}

/** The part with choice 0's content replaced (the choice is added when the chunk has none). */
function withContent(p: StreamPart, content: string): StreamPart {
  const chunk = p.chunk!;
  const at = chunk.choices.findIndex((c) => c.index === 0);
  const choices = chunk.choices.slice();
  if (at < 0) choices.unshift({ index: 0, delta: { content }, finish_reason: null });
  else choices[at] = { ...choices[at]!, delta: { ...choices[at]!.delta, content } };
  return { ...(p.usage ? { usage: p.usage } : {}), chunk: { ...chunk, choices } };
}

export function stripNative(p: StreamPart): StreamPart {
  if (!p.native) return p;
  const { native: _native, ...rest } = p;
  return rest;
}

/**
 * Wraps a stream so its content goes through `transform`; `onEnd` runs once the source is
 * exhausted (before the last part is handed on) and may throw to end the stream with an error.
 */
export function rewriteStream(s: StreamHandle, transform: TextTransform, onEnd?: () => void): StreamHandle {
  let held = '';
  let last: ChatCompletionChunk | undefined;
  const feed = (raw: StreamPart): StreamPart => {
    const p = stripNative(raw);
    // Only the first choice's text: other choices and tool-call arguments are someone else's job.
    const choice = p.chunk?.choices.find((c) => c.index === 0);
    if (!choice) return p;
    last = p.chunk;
    const text = choice.delta.content;
    const finishing = choice.finish_reason != null;
    if (!text && !(finishing && held)) return p;
    held += text ?? '';
    const r = transform(held, finishing);
    held = finishing ? '' : r.hold;
    return withContent(p, finishing ? r.emit + r.hold : r.emit);
  };
  return mapStream(s, feed, () => {
    const tail = held ? transform(held, true) : undefined;
    held = '';
    onEnd?.();
    if (!tail || !(tail.emit || tail.hold) || !last) return undefined;
    const base: ChatCompletionChunk = { ...last, choices: [{ index: 0, delta: {}, finish_reason: null }] };
    return withContent({ chunk: base }, tail.emit + tail.hold);
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
