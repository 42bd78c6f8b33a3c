/**
 * Grounding: is an answer supported by the source documents the request carried? Two
 * checks, both lexical and explicit: citations like `[2]` must point to a provided source
 * (1-based), and each answer sentence counts as supported when enough of its content words
 * (stop words and very short words left out) appear in the sources — in the cited sources
 * when the sentence cites some, else in any. The score is the share of supported sentences,
 * with every bad citation counted as an unsupported sentence.
 */

export interface GroundingResult {
  /** 0..1; 1 when there is nothing to judge. */
  score: number;
  sentences: number;
  supported: number;
  /** Citation numbers that point to no source. */
  badCitations: number[];
}

const STOP = new Set(
  'a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its may might more most no not of on or our she so such than that the their them then there these they this those to too was we were what when where which while who why will with would you your also about after before over under between both each other some any all only very just'.split(' '),
);

export function contentWords(text: string): string[] {
  const out: string[] = [];
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (w.length < 3 && !/^\d+$/.test(w)) continue;
    if (STOP.has(w)) continue;
    out.push(stem(w));
  }
  return out;
}

/** A crude stem: enough that "cities"/"city", "running"/"run" meet. */
function stem(w: string): string {
  if (w.length > 5 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 5 && w.endsWith('ing')) return w.slice(0, -3);
  if (w.length > 4 && w.endsWith('ed')) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

const CITATION = /\[(\d{1,3})\]/g;

export function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => contentWords(s.replace(CITATION, '')).length >= 3);
}

export function scoreGrounding(answer: string, sources: readonly string[], minOverlap = 0.5): GroundingResult {
  const vocab = sources.map((s) => new Set(contentWords(s)));
  const all = new Set<string>();
  for (const v of vocab) for (const w of v) all.add(w);
  const badCitations: number[] = [];
  let sentences = 0;
  let supported = 0;
  for (const sentence of splitSentences(answer)) {
    sentences++;
    const cited = [...sentence.matchAll(CITATION)].map((m) => Number(m[1]));
    const bad = cited.filter((n) => n < 1 || n > sources.length);
    badCitations.push(...bad);
    const good = cited.filter((n) => n >= 1 && n <= sources.length);
    const pool = good.length > 0 ? unionOf(good.map((n) => vocab[n - 1]!)) : all;
    const words = contentWords(sentence.replace(CITATION, ''));
    const hit = words.filter((w) => pool.has(w)).length;
    if (bad.length === 0 && hit / words.length >= minOverlap) supported++;
  }
  if (sentences === 0) return { score: badCitations.length ? 0 : 1, sentences, supported, badCitations };
  return { score: Math.round((supported / (sentences + 0)) * 1000) / 1000, sentences, supported, badCitations };
}

function unionOf(sets: ReadonlyArray<Set<string>>): Set<string> {
  if (sets.length === 1) return sets[0]!;
  const u = new Set<string>();
  for (const s of sets) for (const w of s) u.add(w);
  return u;
}
