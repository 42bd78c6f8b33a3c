/**
 * The PII evaluation on Presidio's synthetic set (`data/datasets/pii/presidio-synth-v2.json`, copied from `../shared/data/`,
 * MIT): loads it, maps its entity names onto ours, splits it with a fixed rule (rows whose
 * index % 5 == 0 are held out; tune only on the rest) and scores a detector per entity.
 *
 * Mapping: EMAIL_ADDRESS, PHONE_NUMBER, CREDIT_CARD, IBAN_CODE, US_SSN, IP_ADDRESS, PERSON
 * and STREET_ADDRESS keep their names. DATE_TIME becomes DATE_OF_BIRTH when its sentence has
 * a birth word (born, birth, birthday, DOB); other DATE_TIME spans and the types we do not
 * detect (GPE, ORGANIZATION, ZIP_CODE, AGE, TITLE, NRP, DOMAIN_NAME, US_DRIVER_LICENSE)
 * are not scored, but a prediction that lands on them counts as a false positive.
 *
 * Matching is span-level and lenient: a prediction is a true positive when it overlaps a gold
 * span of the same type; a gold span is found when a prediction of its type overlaps it
 * (the set's address spans cut blocks inconsistently, so exact boundaries would mostly
 * measure the annotation).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { resolveOverlaps } from '../src/guards/entity-spans.js';
import type { EntityDetector, EntitySpan } from '../src/guards/types.js';

export const PRESIDIO_PATH = join(PACKAGE_ROOT, 'data', 'datasets', 'pii', 'presidio-synth-v2.json');
export const SCORED_TYPES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'CREDIT_CARD', 'IBAN_CODE', 'US_SSN', 'IP_ADDRESS', 'DATE_OF_BIRTH', 'PERSON', 'STREET_ADDRESS'] as const;

interface RawRow {
  full_text: string;
  spans: { entity_type: string; entity_value: string; start_position: number; end_position: number }[];
}

export interface GoldRow {
  index: number;
  text: string;
  spans: { type: string; start: number; end: number }[];
}

const SAME = new Set<string>(SCORED_TYPES);
const BIRTH = /born|birth|\bdob\b/i;

export function mapType(presidioType: string, text: string): string | null {
  if (SAME.has(presidioType)) return presidioType;
  if (presidioType === 'DATE_TIME' && BIRTH.test(text)) return 'DATE_OF_BIRTH';
  return null;
}

/** Every row, with spans mapped to our types (unmapped ones typed `OTHER`). `path` defaults to the shared set. */
export function loadPresidio(path: URL | string = PRESIDIO_PATH): GoldRow[] {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawRow[];
  return raw.map((r, index) => ({
    index,
    text: r.full_text,
    spans: r.spans.map((s) => ({ type: mapType(s.entity_type, r.full_text) ?? 'OTHER', start: s.start_position, end: s.end_position })),
  }));
}

/** The fixed split: index % 5 == 0 is held out. */
export function splitRows(rows: GoldRow[]): { dev: GoldRow[]; heldOut: GoldRow[] } {
  return { dev: rows.filter((r) => r.index % 5 !== 0), heldOut: rows.filter((r) => r.index % 5 === 0) };
}

export interface EntityScore {
  type: string;
  gold: number;
  predicted: number;
  tp: number;
  found: number;
  precision: number;
  recall: number;
  f2: number;
}

export interface Mistake {
  index: number;
  kind: 'fp' | 'fn';
  type: string;
  value: string;
  text: string;
}

const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }): boolean => a.start < b.end && b.start < a.end;

/** Per-entity precision, recall and F2 (recall weighted 4x, as for PII where a miss costs more than a false alarm). */
export function evaluate(rows: GoldRow[], detect: (text: string) => EntitySpan[], mistakes?: Mistake[]): EntityScore[] {
  const acc = new Map<string, { gold: number; predicted: number; tp: number; found: number }>();
  for (const t of SCORED_TYPES) acc.set(t, { gold: 0, predicted: 0, tp: 0, found: 0 });
  for (const row of rows) {
    const pred = detect(row.text);
    for (const g of row.spans) {
      const a = acc.get(g.type);
      if (!a) continue;
      a.gold++;
      if (pred.some((p) => p.type === g.type && overlaps(p, g))) a.found++;
      else mistakes?.push({ index: row.index, kind: 'fn', type: g.type, value: row.text.slice(g.start, g.end), text: row.text });
    }
    for (const p of pred) {
      const a = acc.get(p.type);
      if (!a) continue;
      a.predicted++;
      if (row.spans.some((g) => g.type === p.type && overlaps(p, g))) a.tp++;
      else mistakes?.push({ index: row.index, kind: 'fp', type: p.type, value: row.text.slice(p.start, p.end), text: row.text });
    }
  }
  return [...acc].map(([type, a]) => {
    const precision = a.predicted === 0 ? (a.gold === 0 ? 1 : 0) : a.tp / a.predicted;
    const recall = a.gold === 0 ? 1 : a.found / a.gold;
    const f2 = precision + recall === 0 ? 0 : (5 * precision * recall) / (4 * precision + recall);
    return { type, ...a, precision, recall, f2 };
  });
}

/** Texts of about `size` characters made by joining dataset rows, for timing. */
export function timingTexts(rows: GoldRow[], size = 2048, count = 200): string[] {
  const out: string[] = [];
  let k = 0;
  for (let n = 0; n < count; n++) {
    let s = '';
    while (s.length < size) s += rows[k++ % rows.length]!.text + '\n';
    out.push(s.slice(0, size));
  }
  return out;
}

/** A 2 KB prompt of ordinary prose and code with one email and one phone number: the common case. */
export function typicalPrompt(size = 2048): string {
  const para = `Can you review this function and explain why the test fails on CI but not locally? We run Node 20 on
two cores; the job installs with npm ci and then runs vitest. The error says the timeout of 5000 ms was exceeded.
function retry(fn, attempts = 3) { for (let i = 0; i < attempts; i++) { try { return fn(); } catch (e) { if (i === attempts - 1) throw e; } } }
Last week the same suite passed in 41 seconds. If you need more context, write to dev-team@example.com or call +1 415 555 2671.
`;
  let s = '';
  while (s.length < size) s += para;
  return s.slice(0, size);
}

/** p50 and p99 microseconds of `fn` over the texts (after a warm-up pass). */
export function timeDetectors(texts: string[], fn: (text: string) => unknown, rounds = 10): { p50: number; p99: number } {
  for (const t of texts) fn(t);
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const t of texts) {
      const t0 = process.hrtime.bigint();
      fn(t);
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  samples.sort((a, b) => a - b);
  return { p50: samples[Math.floor(samples.length * 0.5)]!, p99: samples[Math.floor(samples.length * 0.99)]! };
}

/** For callers that want one detector over both PII and secrets. */
export function combine(...detectors: EntityDetector[]): (text: string) => EntitySpan[] {
  return (text) => resolveOverlaps(detectors.flatMap((d) => d.detect(text)));
}
