/**
 * Text normalization for the prompt-injection detector: undoes the usual obfuscations so the
 * rules and the model see the words an attacker meant, and records each obfuscation it undid
 * as a signal (hiding text is itself evidence).
 *
 * - invisible characters (zero-width, soft hyphen, variation selectors) are removed;
 *   Unicode tag characters (U+E0020..E007E, "ASCII smuggling") are decoded as a payload;
 * - bidi controls (U+202A..202E, U+2066..2069, LRM/RLM) are removed;
 * - NFKC folds fullwidth and mathematical letters; a table folds Cyrillic/Greek look-alikes;
 * - letters split by spaces or punctuation ("i g n o r e", "ig-nore", "i.g.n.o.r.e") are joined;
 * - digits inside words are read as letters ("1gn0r3");
 * - base64, hex, percent-encoded and rot13 payloads that decode to mostly printable text are
 *   decoded and returned beside the text, to be scanned too.
 */

export type ObfuscationSignal =
  | 'invisible_chars'
  | 'bidi_control'
  | 'homoglyphs'
  | 'fullwidth_forms'
  | 'split_tokens'
  | 'leetspeak'
  | 'base64_payload'
  | 'hex_payload'
  | 'url_encoded_payload'
  | 'rot13_payload'
  | 'tag_payload';

export interface NormalizedText {
  /** Lower-case, folded text with split tokens joined. */
  text: string;
  /** Decoded payloads (base64, hex, rot13, tag characters), each normalized like `text`. */
  payloads: string[];
  /** Obfuscations undone, each at most once. */
  signals: ObfuscationSignal[];
}

const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180E\u200B-\u200D\u2060-\u2064\u3164\uFE00-\uFE0F\uFEFF\uFFA0]|\uDB40[\uDD00-\uDDEF]/g;
/** Invisible characters that ordinary text does not need (emoji sequences need ZWJ and VS15/16 between symbols, not letters). */
const SUSPICIOUS_INVISIBLE = /[\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180E\u200B\u200C\u2060-\u2064\u3164\uFE00-\uFE0D\uFEFF\uFFA0]|\uDB40[\uDD00-\uDDEF]|[A-Za-z]\u200D|\u200D[A-Za-z]/;
const RLO_SEGMENT = /\u202E([^\u202C\u2069]*)/g;
const BIDI = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;
/** Unicode tag characters, written as surrogate pairs: U+E0000..E007F. */
const TAGS = /\uDB40[\uDC00-\uDC7F]/g;

/** Cyrillic and Greek letters that look like Latin ones (lower case after NFKC + toLowerCase). */
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  // Cyrillic
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', һ: 'h', ӏ: 'l', ԛ: 'q', ԝ: 'w', ɡ: 'g', ь: 'b', ы: 'bi',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  γ: 'y', ω: 'w', ς: 's', μ: 'u', ζ: 'z',
  // Latin look-alikes outside ASCII
  ı: 'i', ȷ: 'j', ℓ: 'l', ſ: 's',
};
const HOMOGLYPH_CLASS = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`, 'g');
const HOMOGLYPH_TEST = new RegExp(`[${Object.keys(HOMOGLYPHS).join('')}]`);
/** A word mixing Latin letters with look-alikes: the homoglyph signal (plain Russian or Greek text is not). */
const MIXED_SCRIPT_WORD = new RegExp(`[a-z][^\\s]*[${Object.keys(HOMOGLYPHS).join('')}]|[${Object.keys(HOMOGLYPHS).join('')}][^\\s]*[a-z]`);

const ALL_PRINTABLE_ASCII = /^[\x20-\x7E\t\r\n]*$/;
/** Runs of at least four single letters separated by one separator: "i g n o r e", "i.g.n.o.r.e". */
const SPLIT_RUN = /(?<![a-z0-9äöüß])(?:[a-zäöüß][ .\-_*|/+~,]{1,2}){3,}[a-zäöüß](?![a-z0-9äöüß])/g;
/** A separator inside a word: "ig-nore", "sys_tem", "pr*ompt". */
const INWORD_SEPARATOR = /(?<=[a-zäöüß]{2})[-_*|~^.](?=[a-zäöüß]{2})/g;
const LEET_HINT = /[a-z][0-9@$]|[0-9@$][a-z]/;
/** A whole run of [a-z0-9@$] holding a digit, `@` or `$` (the lookbehind keeps it from retrying inside a word). */
const LEET_WORD = /(?<![a-z0-9@$])[a-z]*[0-9@$][a-z0-9@$]*/g;
const LEET: Readonly<Record<string, string>> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's' };

/** Candidate base64 runs (checked further in code: one character class keeps the scan linear). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
const HEX_RUN = /(?:(?:\\x|0x)?[0-9a-fA-F]{2}[\s:,]?){8,}/g;
const PERCENT_RUN = /(?:%[0-9a-fA-F]{2}[^%\s]{0,3}){5,}/g;

/** Frequent English and German words: a rot13 payload decodes to several of them. */
const COMMON_WORDS = new Set([
  'the', 'and', 'you', 'your', 'all', 'are', 'for', 'now', 'not', 'this', 'that', 'with', 'what', 'ignore', 'previous',
  'instructions', 'prompt', 'system', 'tell', 'show', 'say', 'print', 'rules', 'from', 'will', 'must', 'any', 'above',
  // Not "be"/"or" nor "an"/"na": each is the other's rot13.
  'is', 'to', 'of', 'me', 'my', 'do', 'it', 'in', 'on', 'as', 'no', 'if',
  'die', 'der', 'und', 'du', 'ist', 'nicht', 'alle', 'vergiss', 'mir', 'ich',
]);

/**
 * Normalizes a text for injection scanning.
 *
 * @example
 * normalize('I\u200Bgnore аll previous instructions').text // 'ignore all previous instructions'
 */
export function normalize(raw: string, depth = 0): NormalizedText {
  const signals = new Set<ObfuscationSignal>();
  const payloads: string[] = [];
  let text = raw;

  if (!ALL_PRINTABLE_ASCII.test(text)) {
    const tags = text.match(TAGS);
    if (tags !== null && tags.length >= 4) {
      const decoded = tags.map((t) => String.fromCharCode((t.charCodeAt(1) - 0xdc00) & 0x7f)).join('');
      if (/[a-z]{3}/i.test(decoded)) {
        signals.add('tag_payload');
        payloads.push(decoded);
      }
    }
    if (tags !== null) text = text.replace(TAGS, '');
    // Right-to-left override displays the following characters reversed: read them as shown.
    for (const m of text.matchAll(RLO_SEGMENT)) {
      const shown = [...(m[1] ?? '')].reverse().join('');
      if (/[a-z]{3}/i.test(shown)) payloads.push(shown);
    }
    const withoutInvisible = text.replace(INVISIBLE, '');
    if (withoutInvisible.length !== text.length && SUSPICIOUS_INVISIBLE.test(text)) signals.add('invisible_chars');
    text = withoutInvisible.replace(BIDI, '');
    if (text.length !== withoutInvisible.length) signals.add('bidi_control');
    const folded = text.normalize('NFKC');
    if (folded !== text && /[\uFF01-\uFF5E]|\uD835[\uDC00-\uDFFF]/.test(text)) signals.add('fullwidth_forms');
    text = folded;
  }

  // Payloads are searched in the case-preserving text: base64 is case-sensitive.
  if (depth === 0) decodePayloads(text, payloads, signals);

  text = text.toLowerCase();
  if (HOMOGLYPH_TEST.test(text)) {
    if (MIXED_SCRIPT_WORD.test(text)) signals.add('homoglyphs');
    text = text.replace(HOMOGLYPH_CLASS, (c) => HOMOGLYPHS[c] ?? c);
  }

  text = text.replace(SPLIT_RUN, (run) => {
    signals.add('split_tokens');
    return run.replace(/[^a-zäöüß]/g, '');
  });
  text = text.replace(INWORD_SEPARATOR, '');
  if (LEET_HINT.test(text)) text = text.replace(LEET_WORD, (word) => {
    // Only words with letters on both sides of the digit: "1gn0r3", "pr0mpt"; not "2024", "gpt4", "h2o".
    if (!/[a-z]/.test(word) || !/[a-z][0-9@$]+[a-z]|^[0-9@$][a-z]{2,}/.test(word) || /^[0-9]+[a-z]{1,2}$/.test(word)) return word;
    const replaced = word.replace(/[0-9@$]/g, (c) => LEET[c] ?? c);
    if (/[0-9]/.test(replaced)) return word;
    signals.add('leetspeak');
    return replaced;
  });

  if (depth === 0 && looksRot13(text)) {
    signals.add('rot13_payload');
    payloads.push(rot13(text));
  }

  const normalizedPayloads = depth === 0 ? payloads.map((p) => normalize(p, depth + 1).text) : payloads;
  return { text, payloads: normalizedPayloads, signals: [...signals] };
}

/** Whether `code` may be part of a base64 run ([A-Za-z0-9+/_-]). */
function base64Char(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 95 || c === 45;
}

/** Whether `code` may be part of a hex run ([0-9a-fA-F], `\x`/`0x` prefixes, separators [\s:,]). */
function hexRunChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70) || c === 120 || c === 92 || c === 58 || c === 44 || c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * Cheap pre-check, one pass: whether the text has a stretch of 16 characters that could hold a
 * base64 run, and one that could hold a hex run (each match of BASE64_RUN / HEX_RUN is at
 * least 16 characters of its class), so the decoding regexes run only when one may match.
 */
function runCandidates(text: string): { base64: boolean; hex: boolean } {
  let b = 0;
  let h = 0;
  let base64 = false;
  let hex = false;
  for (let i = 0; i < text.length && !(base64 && hex); i++) {
    const c = text.charCodeAt(i);
    b = base64Char(c) ? b + 1 : 0;
    h = hexRunChar(c) ? h + 1 : 0;
    if (b >= 16) base64 = true;
    if (h >= 16) hex = true;
  }
  return { base64, hex };
}

function decodePayloads(text: string, payloads: string[], signals: Set<ObfuscationSignal>): void {
  if (text.length < 16) return;
  const may = runCandidates(text);
  const base64Runs = may.base64 ? (text.match(BASE64_RUN) ?? []) : [];
  for (const run of base64Runs) {
    if (!/[a-z]/.test(run) || !/[A-Z0-9]/.test(run)) continue; // plain words are not base64
    if (/[+/]/.test(run) && /[-_]/.test(run)) continue;
    const decoded = printable(Buffer.from(run, /[-_]/.test(run) ? 'base64url' : 'base64').toString('utf8'));
    if (decoded !== undefined) {
      signals.add('base64_payload');
      payloads.push(decoded);
    }
  }
  const hexRuns = may.hex ? (text.match(HEX_RUN) ?? []) : [];
  for (const run of hexRuns) {
    const digits = run.replace(/\\x|0x|[\s:,]/g, '');
    if (digits.length % 2 !== 0) continue;
    const decoded = printable(Buffer.from(digits, 'hex').toString('utf8'));
    if (decoded !== undefined) {
      signals.add('hex_payload');
      payloads.push(decoded);
    }
  }
  const percentRuns = text.includes('%') ? (text.match(PERCENT_RUN) ?? []) : [];
  for (const run of percentRuns) {
    let decoded: string | undefined;
    try {
      decoded = printable(decodeURIComponent(run));
    } catch {
      decoded = undefined;
    }
    if (decoded !== undefined) {
      signals.add('url_encoded_payload');
      payloads.push(decoded);
    }
  }
}

/** The decoded text when at least 90% of it is printable and it holds a word; otherwise undefined. */
function printable(decoded: string): string | undefined {
  if (decoded.length < 6) return undefined;
  let ok = 0;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09 || (c >= 0xa0 && c !== 0xfffd)) ok++;
  }
  return ok >= 0.9 * decoded.length && /[A-Za-z]{3}/.test(decoded) && /[\s]/.test(decoded) ? decoded : undefined;
}

export function rot13(text: string): string {
  return text.replace(/[a-z]/gi, (c) => {
    const base = c <= 'Z' ? 65 : 97;
    return String.fromCharCode(((c.charCodeAt(0) - base + 13) % 26) + base);
  });
}

const ROT13_COMMON_WORDS = new Set([...COMMON_WORDS].map(rot13));

/** A whole a-z run that is a frequent word rot13-encoded (the count `looksRot13` needs, without splitting the text). */
const ROT13_WORD = new RegExp(`(?<![a-z])(?:${[...ROT13_COMMON_WORDS].sort((x, y) => y.length - x.length).join('|')})(?![a-z])`, 'g');

/** Whether the text holds several frequent words once rot13-decoded, and many more than as written. */
function looksRot13(text: string): boolean {
  // Cheap pre-check: fewer than four encoded frequent words settles it.
  ROT13_WORD.lastIndex = 0;
  let candidates = 0;
  while (candidates < 4 && ROT13_WORD.exec(text) !== null) candidates++;
  if (candidates < 4) return false;
  let plain = 0;
  let rotated = 0;
  for (const w of text.match(/[a-z]{2,}/g) ?? []) {
    if (COMMON_WORDS.has(w)) plain++;
    if (ROT13_COMMON_WORDS.has(w)) rotated++;
  }
  return rotated >= 4 && rotated >= plain;
}
