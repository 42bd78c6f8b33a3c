/** The shape of one PII recognizer: it scans a text (and its lower-cased copy) and pushes spans. */
import type { EntitySpan } from '../types.js';

export interface Recognizer {
  /** The entity type it reports. */
  readonly type: string;
  scan(text: string, lower: string, out: EntitySpan[]): void;
}

/** Presidio's context boost: a context word near a match adds this much (capped at 1). */
export const CONTEXT_BOOST = 0.35;

export function boosted(score: number, context: boolean, boost = CONTEXT_BOOST): number {
  return context ? Math.min(1, score + boost) : score;
}
