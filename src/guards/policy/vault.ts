/**
 * Masking: replaces detected spans with placeholders. Reversible masks (`<EMAIL_ADDRESS_1>`)
 * keep the value in a per-call vault so the answer's placeholders can be restored for the
 * caller; irreversible ones (`[EMAIL_ADDRESS]`) keep nothing. The same value gets the same
 * placeholder throughout a call, so the model can still refer to it consistently.
 */
import type { EntitySpan } from '../types.js';

export class MaskVault {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<string, number>();

  get size(): number {
    return this.byPlaceholder.size;
  }

  placeholderFor(type: string, value: string): string {
    const key = `${type}\u0000${value}`;
    let p = this.byValue.get(key);
    if (!p) {
      const n = (this.counters.get(type) ?? 0) + 1;
      this.counters.set(type, n);
      p = `<${type.replace(/[^A-Z0-9_]/gi, '_')}_${n}>`;
      this.byValue.set(key, p);
      this.byPlaceholder.set(p, value);
    }
    return p;
  }

  /** Puts the original values back in place of this call's placeholders. */
  restore(text: string, escape?: (value: string) => string): string {
    if (this.byPlaceholder.size === 0 || !text.includes('<')) return text;
    return text.replace(/<[A-Z0-9_]+_\d+>/g, (p) => {
      const v = this.byPlaceholder.get(p);
      return v === undefined ? p : escape ? escape(v) : v;
    });
  }

  /** Length of the longest placeholder: a stream holds back at most this much of an unfinished one. */
  maxPlaceholderLength(): number {
    let n = 0;
    for (const p of this.byPlaceholder.keys()) n = Math.max(n, p.length);
    return n;
  }
}

/**
 * Replaces `spans` (sorted, non-overlapping) in `text`: by the vault's placeholder when a
 * vault is given, else by `[TYPE]`.
 *
 * @example
 * maskSpans('mail a@b.co', [{ type: 'EMAIL_ADDRESS', start: 5, end: 11, score: 1 }]) // 'mail [EMAIL_ADDRESS]'
 */
export function maskSpans(text: string, spans: readonly EntitySpan[], vault?: MaskVault): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + (vault ? vault.placeholderFor(s.type, text.slice(s.start, s.end)) : `[${s.type}]`);
    at = s.end;
  }
  return out + text.slice(at);
}
