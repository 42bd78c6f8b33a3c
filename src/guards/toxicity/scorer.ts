/**
 * Toxicity scoring: the lexicon (`lexicon.ts`) plus a few rules. Each hit has a severity
 * (low 0.3, medium 0.6, high 0.9); a term aimed at the reader ("you idiot") counts one
 * level up in score (+0.15), shouting (mostly capitals) +0.05, each further hit +0.05.
 * The score is capped at 1. Hits come back as spans, so a policy can mask them.
 */
import type { EntitySpan } from '../types.js';
import { LEXICON, TARGET_WORDS, type Severity } from './lexicon.js';

const WEIGHT: Record<Severity, number> = { low: 0.3, medium: 0.6, high: 0.9 };
const ORDER: readonly Severity[] = ['high', 'medium', 'low'];

export interface ToxicityResult {
  score: number;
  /** The worst severity found, or null. */
  severity: Severity | null;
  /** One span per hit, type `TOXIC_LOW|MEDIUM|HIGH`. */
  spans: EntitySpan[];
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's', '!': 'i' };

/**
 * Lower case, leetspeak undone, letters repeated 3+ times folded to one: `1d10t` → `idiot`,
 * `stuuupid` → `stupid`. Keeps the text's length, so offsets still point into the original.
 */
export function normalize(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const l = LEET[c];
    out += l !== undefined && i > 0 && /[a-z]/i.test(text[i - 1]!) ? l : c.toLowerCase();
  }
  return out;
}

function termPattern(term: string): string {
  const wild = term.endsWith('*');
  const base = (wild ? term.slice(0, -1) : term).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Each letter may repeat (stuuupid); a trailing * takes any word ending (fucking).
  const stretched = base.replace(/([a-z])/g, '$1+').replace(/ /g, '\\s+');
  return wild ? `${stretched}[a-z]*` : stretched;
}

/** One compiled pattern per severity; built once. */
const PATTERNS: ReadonlyArray<{ severity: Severity; re: RegExp }> = ORDER.map((severity) => ({
  severity,
  re: new RegExp(`(?<![a-z])(?:${LEXICON[severity].map(termPattern).join('|')})(?![a-z])`, 'g'),
}));
const TARGET = new RegExp(`(?<![a-z'])(?:${TARGET_WORDS.map((w) => w.replace(/'/g, "'?")).join('|')})(?:\\s+(?:are|r|is|were|such|a|an|so|the|little|big|fat))*\\s+$`);

export function scoreToxicity(text: string): ToxicityResult {
  const norm = normalize(text);
  const spans: EntitySpan[] = [];
  let best = 0;
  let severity: Severity | null = null;
  for (const { severity: sev, re } of PATTERNS) {
    re.lastIndex = 0;
    for (let m = re.exec(norm); m; m = re.exec(norm)) {
      const start = m.index;
      const end = start + m[0].length;
      if (spans.some((s) => s.start < end && start < s.end)) continue;
      let w = WEIGHT[sev];
      if (TARGET.test(norm.slice(Math.max(0, start - 30), start))) w += 0.15;
      spans.push({ type: `TOXIC_${sev.toUpperCase()}`, start, end, score: Math.min(1, w) });
      if (w > best) best = w;
      severity ??= sev;
    }
  }
  if (spans.length === 0) return { score: 0, severity: null, spans };
  let score = best + 0.05 * (spans.length - 1);
  const letters = text.replace(/[^a-z]/gi, '');
  if (letters.length >= 12 && letters.replace(/[^A-Z]/g, '').length / letters.length > 0.7) score += 0.05;
  spans.sort((a, b) => a.start - b.start);
  return { score: Math.min(1, Math.round(score * 1000) / 1000), severity, spans };
}

/** Toxicity as an entity detector (spans at or above `minScore`), for masking in flight. */
export const toxicityDetector = {
  types: ['TOXIC_LOW', 'TOXIC_MEDIUM', 'TOXIC_HIGH'] as const,
  detect(text: string, opts?: { minScore?: number }): EntitySpan[] {
    const min = opts?.minScore ?? 0;
    return scoreToxicity(text).spans.filter((s) => s.score >= min);
  },
};
