/**
 * Span bookkeeping shared by the PII and secrets detectors: overlap resolution (the higher
 * score wins, then the longer span) and the Presidio-style context boost (a context word
 * near a match raises its score).
 */
import type { EntitySpan } from './types.js';

/** Sorted by start, non-overlapping: of two overlapping spans the higher score wins, then the longer. */
export function resolveOverlaps(spans: EntitySpan[]): EntitySpan[] {
  if (spans.length < 2) return spans;
  const byRank = [...spans].sort((a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: EntitySpan[] = [];
  for (const s of byRank) {
    if (!kept.some((k) => s.start < k.end && k.start < s.end)) kept.push(s);
  }
  return kept.sort((a, b) => a.start - b.start);
}

/** Filters by the detect() options. */
export function filterSpans(spans: EntitySpan[], opts?: { types?: readonly string[]; minScore?: number }, defaultMinScore = 0): EntitySpan[] {
  const min = opts?.minScore ?? defaultMinScore;
  const types = opts?.types;
  return spans.filter((s) => s.score >= min && (!types || types.includes(s.type)));
}

/**
 * Whether one of the context words occurs in the lower-cased text within `before`
 * characters before the span or `after` characters after it (whole words only).
 */
export function hasContext(lower: string, start: number, end: number, words: RegExp, before = 48, after = 24): boolean {
  const from = Math.max(0, start - before);
  const to = Math.min(lower.length, end + after);
  words.lastIndex = 0;
  return words.test(lower.slice(from, start)) || (after > 0 && words.test(lower.slice(end, to)));
}

/**
 * A whole-word alternation for `hasContext` (the text is already lower-cased). Word edges
 * are ASCII `\b`, which lets the regex engine skip ahead fast; good enough for context words.
 */
export function contextWords(words: readonly string[]): RegExp {
  const alt = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|');
  return new RegExp(`\\b(?:${alt})(?![a-z\\d])`);
}

/** Start offsets of every context word in the lower-cased text, for many `near` checks on one text. */
export function contextIndex(lower: string, words: RegExp): number[] {
  const g = new RegExp(words.source, 'g');
  const out: number[] = [];
  for (const m of lower.matchAll(g)) out.push(m.index);
  return out;
}

/** Whether a context word (from `contextIndex`) starts within `before` characters before `start` or `after` after `end`. */
export function near(index: readonly number[], start: number, end: number, before = 48, after = 24): boolean {
  for (const p of index) {
    if (p >= start - before && p < start) return true;
    if (p >= end && p < end + after) return true;
    if (p >= end + after) return false;
  }
  return false;
}
