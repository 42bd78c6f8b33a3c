/**
 * Masking with typed, numbered placeholders (`<EMAIL_ADDRESS_1>`), and the way back.
 * A `MaskVault` keeps one call's placeholders (the same value gets the same placeholder
 * throughout the call, across messages, so the model can refer to it consistently);
 * `mask`/`maskSpans` replace spans — by the vault's placeholder (reversible) or by `[TYPE]`
 * (irreversible, nothing kept) — and `unmask` restores placeholders in a model's answer;
 * `StreamingUnmasker` does the same over a stream, holding back a possible partial
 * placeholder at the end of each chunk. Only `counts` (per type) may go to logs and traces;
 * the vault holds raw values and stays in memory for the request.
 */
import type { EntitySpan } from './types.js';

/** Escapes a restored value for the context it lands in (e.g. inside a JSON string). */
export type Escape = (value: string) => string;

/** One call's reversible placeholders. Never log its contents. */
export class MaskVault {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  get size(): number {
    return this.byPlaceholder.size;
  }

  /** Placeholder → original value. */
  get placeholders(): ReadonlyMap<string, string> {
    return this.byPlaceholder;
  }

  placeholderFor(type: string, value: string): string {
    const key = `${type}\u0000${value}`;
    let p = this.byValue.get(key);
    if (!p) {
      const n = (this.counters.get(type) ?? 0) + 1;
      this.counters.set(type, n);
      p = `<${type.replace(/[^A-Z0-9_]/gi, '_').toUpperCase()}_${n}>`;
      this.byValue.set(key, p);
      this.byPlaceholder.set(p, value);
    }
    return p;
  }

  /** Puts the original values back in place of this call's placeholders. */
  restore(text: string, escape?: Escape): string {
    return unmask(text, this.byPlaceholder, escape);
  }
}

export interface MaskResult {
  text: string;
  /** Placeholder → original value, for `unmask`. Never log it. */
  placeholders: ReadonlyMap<string, string>;
  /** Spans masked per entity type, for the trace. */
  counts: Record<string, number>;
}

/**
 * Replaces `spans` (non-overlapping; overlaps are skipped) in `text`: by the vault's
 * placeholder when a vault is given, else by `[TYPE]`.
 * @example
 * maskSpans('mail a@b.co', [{ type: 'EMAIL_ADDRESS', start: 5, end: 11, score: 1 }]) // 'mail [EMAIL_ADDRESS]'
 */
export function maskSpans(text: string, spans: readonly EntitySpan[], vault?: MaskVault): string {
  if (spans.length === 0) return text;
  let sorted = spans;
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]!.start < spans[i - 1]!.start) {
      sorted = [...spans].sort((a, b) => a.start - b.start);
      break;
    }
  }
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + (vault ? vault.placeholderFor(s.type, text.slice(s.start, s.end)) : `[${s.type}]`);
    at = s.end;
  }
  return out + text.slice(at);
}

/**
 * Replaces each span with a typed placeholder, in `vault` (a new one by default).
 * @example
 * mask('mail a@b.co or a@b.co', [{ type: 'EMAIL_ADDRESS', start: 5, end: 11, score: 1 }, { type: 'EMAIL_ADDRESS', start: 15, end: 21, score: 1 }])
 * // { text: 'mail <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_1>', placeholders: Map { '<EMAIL_ADDRESS_1>' => 'a@b.co' }, counts: { EMAIL_ADDRESS: 2 } }
 */
export function mask(text: string, spans: readonly EntitySpan[], vault = new MaskVault()): MaskResult {
  const counts: Record<string, number> = {};
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < at) continue;
    counts[s.type] = (counts[s.type] ?? 0) + 1;
    at = s.end;
  }
  return { text: maskSpans(text, spans, vault), placeholders: vault.placeholders, counts };
}

const PLACEHOLDER_RE = /<[A-Z0-9_]+_\d+>/g;

/** Restores the placeholders of one request in a text (unknown ones stay as they are). */
export function unmask(text: string, placeholders: ReadonlyMap<string, string>, escape?: Escape): string {
  if (placeholders.size === 0 || text.indexOf('<') < 0) return text;
  return text.replace(PLACEHOLDER_RE, (ph) => {
    const v = placeholders.get(ph);
    return v === undefined ? ph : escape ? escape(v) : v;
  });
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

  constructor(
    private readonly placeholders: ReadonlyMap<string, string>,
    private readonly escape?: Escape,
  ) {}

  /** The text that can be sent now for this chunk. */
  push(chunk: string): string {
    const text = this.held + chunk;
    this.held = '';
    if (this.placeholders.size === 0) return text;
    const tail = PARTIAL_TAIL_RE.exec(text);
    if (tail && text.length - tail.index <= MAX_PLACEHOLDER) {
      this.held = text.slice(tail.index);
      return unmask(text.slice(0, tail.index), this.placeholders, this.escape);
    }
    return unmask(text, this.placeholders, this.escape);
  }

  /** Whatever is still held back, at the end of the stream. */
  flush(): string {
    const rest = unmask(this.held, this.placeholders, this.escape);
    this.held = '';
    return rest;
  }
}

/** A value as it must appear inside a JSON string. */
export function jsonEscape(v: string): string {
  return JSON.stringify(v).slice(1, -1);
}
