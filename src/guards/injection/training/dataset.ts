/**
 * The labelled prompts the injection model is trained and measured on, with a fixed
 * held-out part.
 *
 * - `deepset`: `data/datasets/injection/deepset-train.jsonl` (a copy of `../shared/data/...`) (deepset/prompt-injections,
 *   train split, Apache-2.0; 546 rows, English and German).
 * - `attack`: hand-written attacks, `data/guards/injection/attacks.jsonl`.
 * - `obfuscated`: every hand-written attack under three obfuscations (see `obfuscate.ts`),
 *   generated here deterministically; each stays in its source attack's part.
 * - `hard_negative`: benign prompts about security, instructions, role-play and systems,
 *   `data/guards/injection/benign-hard.jsonl`.
 * - `benign_encoded`: every fourth of those, base64/hex/percent/rot13-encoded with a
 *   "Please help me with this message:" wrapper (benign; teaches that encoding alone is not an attack).
 *
 * The held-out part is a fixed quarter of each source, chosen by an FNV-1a hash of the text
 * (of the source attack for obfuscated rows). Nothing in it is used for training or for
 * choosing the threshold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../../package-root.js';
import { OBFUSCATIONS, obfuscate } from './obfuscate.js';

export type Source = 'deepset' | 'attack' | 'obfuscated' | 'hard_negative' | 'benign_encoded';

/** Encodings a benign prompt may legitimately carry (a user asking what a string decodes to). */
const BENIGN_ENCODINGS = ['base64', 'hex', 'url_encoded', 'rot13'] as const;

export interface Example {
  text: string;
  /** 1 = injection / jailbreak, 0 = benign. */
  label: 0 | 1;
  source: Source;
  /** Attack family, obfuscation or benign topic. */
  kind: string;
  /** Rows written from one attack share a group (its text); every other row is its own group. */
  group: string;
  heldOut: boolean;
}

export const DEEPSET_PATH = process.env.LLMOPS_INJECTION_DATA ?? join(PACKAGE_ROOT, 'data', 'datasets', 'injection', 'deepset-train.jsonl');
export const OWN_DATA_DIR = join(PACKAGE_ROOT, 'data', 'guards', 'injection');

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The fixed held-out quarter. */
export function isHeldOut(key: string): boolean {
  return fnv1a(key) % 4 === 0;
}

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function deepsetAvailable(): boolean {
  return existsSync(DEEPSET_PATH);
}

export function loadExamples(): Example[] {
  const out: Example[] = [];
  for (const row of readJsonl(DEEPSET_PATH)) {
    const text = String(row.text);
    const label = row.label === 1 ? 1 : 0;
    out.push({ text, label, source: 'deepset', kind: label === 1 ? 'injection' : 'benign', group: text, heldOut: isHeldOut(text) });
  }
  const attacks = readJsonl(join(OWN_DATA_DIR, 'attacks.jsonl'));
  attacks.forEach((row, i) => {
    const text = String(row.text);
    const heldOut = isHeldOut(text);
    out.push({ text, label: 1, source: 'attack', kind: String(row.family), group: text, heldOut });
    // Three obfuscations per attack, rotating through the families so each is used equally.
    for (let k = 0; k < 3; k++) {
      const kind = OBFUSCATIONS[(i * 3 + k) % OBFUSCATIONS.length]!;
      out.push({ text: obfuscate(text, kind, i + k), label: 1, source: 'obfuscated', kind, group: text, heldOut });
    }
  });
  readJsonl(join(OWN_DATA_DIR, 'benign-hard.jsonl')).forEach((row, i) => {
    const text = String(row.text);
    const heldOut = isHeldOut(text);
    out.push({ text, label: 0, source: 'hard_negative', kind: String(row.topic), group: text, heldOut });
    // Every fourth benign prompt also encoded: encoding alone must not make a prompt an attack.
    if (i % 4 === 0) {
      const kind = BENIGN_ENCODINGS[(i / 4) % BENIGN_ENCODINGS.length]!;
      out.push({ text: obfuscate(text, kind, 2), label: 0, source: 'benign_encoded', kind, group: text, heldOut });
    }
  });
  return out;
}
