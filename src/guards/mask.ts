/**
 * Masking with typed, numbered placeholders (`<EMAIL_ADDRESS_1>`), and the way back:
 * `unmask` restores placeholders in a model's answer and `StreamingUnmasker` does the same
 * over a stream, holding back a possible partial placeholder at the end of each chunk. The
 * same value gets the same placeholder within one request. Only `counts` (per type) may go
 * to logs and traces; `placeholders` holds raw values and stays in memory for the request.
 */
import type { EntitySpan } from './types.js';

export interface MaskResult {
  text: string;
  /** Placeholder → original value, for `unmask`. Never log it. */
  placeholders: Map<string, string>;
  /** Spans masked per entity type, for the trace. */
  counts: Record<string, number>;
}

/**
 * Replaces each span with a typed placeholder. Spans must not overlap (detectors return them so).
 * @example
 * mask('mail a@b.co or a@b.co', [{ type: 'EMAIL_ADDRESS', start: 5, end: 11, score: 1 }, { type: 'EMAIL_ADDRESS', start: 15, end: 21, score: 1 }])
 * // { text: 'mail <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_1>', placeholders: Map { '<EMAIL_ADDRESS_1>' => 'a@b.co' }, counts: { EMAIL_ADDRESS: 2 } }
 */
export function mask(text: string, spans: readonly EntitySpan[]): MaskResult {
  const placeholders = new Map<string, string>();
  const counts: Record<string, number> = {};
  if (spans.length === 0) return { text, placeholders, counts };
  const byValue = new Map<string, string>();
  const next: Record<string, number> = {};
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const s of sorted) {
    if (s.start < pos) continue;
    const value = text.slice(s.start, s.end);
    const key = `${s.type}\u0000${value}`;
    let ph = byValue.get(key);
    if (!ph) {
      next[s.type] = (next[s.type] ?? 0) + 1;
      ph = `<${s.type}_${next[s.type]}>`;
      byValue.set(key, ph);
      placeholders.set(ph, value);
    }
    counts[s.type] = (counts[s.type] ?? 0) + 1;
    out += text.slice(pos, s.start) + ph;
    pos = s.end;
  }
  return { text: out + text.slice(pos), placeholders, counts };
}

const PLACEHOLDER_RE = /<[A-Z][A-Z0-9_]*_\d+>/g;

/** Restores the placeholders of one request in a text (unknown ones stay as they are). */
export function unmask(text: string, placeholders: ReadonlyMap<string, string>): string {
  if (placeholders.size === 0 || text.indexOf('<') < 0) return text;
  return text.replace(PLACEHOLDER_RE, (ph) => placeholders.get(ph) ?? ph);
}

// A tail that could still grow into a placeholder: "<", "<EMAIL", "<EMAIL_ADDRESS_1".
const PARTIAL_TAIL_RE = /<[A-Z0-9_]*$/;
const MAX_PLACEHOLDER = 64;

/**
 * Restores placeholders across stream chunks: a placeholder split between two chunks is held
 * back until it is complete (or clearly is not one).
 * @example
 * const r = new StreamingUnmasker(placeholders);
 * r.push('Write to <EMAIL_AD') // 'Write to '
 * r.push('DRESS_1> today')     // 'a@b.co today'
 * r.flush()                    // ''
 */
export class StreamingUnmasker {
  private held = '';

  constructor(private readonly placeholders: ReadonlyMap<string, string>) {}

  /** The text that can be sent now for this chunk. */
  push(chunk: string): string {
    const text = this.held + chunk;
    this.held = '';
    if (this.placeholders.size === 0) return text;
    const tail = PARTIAL_TAIL_RE.exec(text);
    if (tail && text.length - tail.index <= MAX_PLACEHOLDER) {
      this.held = text.slice(tail.index);
      return unmask(text.slice(0, tail.index), this.placeholders);
    }
    return unmask(text, this.placeholders);
  }

  /** Whatever is still held back, at the end of the stream. */
  flush(): string {
    const rest = unmask(this.held, this.placeholders);
    this.held = '';
    return rest;
  }
}
