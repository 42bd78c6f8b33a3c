/**
 * Person names, best effort without a model: runs of capitalized words in which a first name
 * or surname from the committed Census lists (see `name-lists.ts`) appears, extended over
 * neighbouring capitalized words and initials; a title (Mr, Ms, Dr, ...) before a
 * capitalized word is a name by itself. Words that are also common English words ("Will",
 * "May", "Hope", "Long") need more evidence. Context words ("my name is", "called",
 * "dear") raise the score.
 */
import { contextIndex, contextWords, near } from '../entity-spans.js';
import type { EntitySpan } from '../types.js';
import { FIRST_NAMES, LAST_NAMES } from './name-lists.js';
import { boosted, type Recognizer } from './recognizer.js';

/** Capitalized English words that are not names in most sentences, even though the Census lists have them. */
const COMMON_WORDS = new Set(
  `a about after again all also am an and any april are as at august be because been before being best bill both brown but by
  can case cash chase child christian church city clay close cook could dale day dean did do does early even faith field ford
  for fortune frank free friday from full gay glad good grace grant gray green grey hall happy has have he her here hill his hope
  how i if in is it its joy june just king lake lane last law lee less long love major march mark may me member miles miller
  monday more most mr mrs ms much must my new next no none north not now of on one only or our over page park parish patience
  person price prince rich river rock rose round said saturday say see she should so some south spring stone story street
  summer sunday than that the their them then there these they this those thursday to today tuesday under up us very
  wall ward was way we wednesday well were west what when where which while white who why will winter with wood would
  year yes yet you young your hi hello dear thanks thank please regards best sincerely
  mobile desk fax office phone email website address personal info title name date card bank account iban user bot
  suite apt road avenue via rue main court drive place square union country club orchestra partners university
  god jesus christmas easter`.split(/\s+/).filter(Boolean),
);

const norm = (w: string): string => w.toLowerCase();
const FIRST = new Set(FIRST_NAMES.map(norm));
const LAST = new Set(LAST_NAMES.map(norm));
const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'madam', 'mme', 'mlle', 'herr', 'frau', 'sr', 'sra', 'dame', 'lord', 'lady']);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'md', 'phd', 'dds', 'esq', 'dvm']);

// A capitalized word (letters, apostrophes, hyphens; "O'Neil", "Jean-Luc", "McDonald") or an initial.
const WORD = "\\p{Lu}[\\p{Ll}\\p{Lu}'’\\-]*\\p{Ll}[\\p{Ll}'’\\-]*|\\p{Lu}\\.|\\p{Lu}\\p{Lu}(?=\\b)";
const RUN_RE = new RegExp(`(?<![\\p{L}\\d])(?:${WORD})(?:[ \\t]+(?:${WORD}))*`, 'gu');
const TOKEN_RE = new RegExp(WORD, 'gu');
const PERSON_CONTEXT = contextWords(['name', 'named', 'called', 'dear', 'hi', 'hello', 'mr', 'mrs', 'ms', 'dr', 'contact', 'met', 'meet', 'spoke', 'signed', 'regards', 'sincerely', 'wife', 'husband', 'daughter', 'son', 'mother', 'father', 'grandfather', 'grandmother', 'friend', 'colleague', 'patient', 'customer', 'employee', 'manager', 'lives', 'heard', 'by', 'from', 'with', 'thanks', 'i am', "i'm", 'this is', 'sister', 'brother']);

// Phrases that introduce a name: whatever capitalized words follow are taken as one.
const INTRO_RE = new RegExp(`(?:[Mm]y name is|[Nn]ame is|[Nn]ame's|[Nn]ame:|[Cc]alled|[Nn]amed|[Dd]ear|[Hh]i|[Hh]ello|[Dd]irected [Bb]y:?|[Ww]ritten [Bb]y|[Ss]igned,?|[Rr]egards,|[Uu]ser:|[Mm]e,)[ \\t]+((?:${WORD})(?:[ \\t]+(?:${WORD})){0,2})`, 'gu');

interface Tok {
  word: string;
  lower: string;
  start: number;
  end: number;
}

function isInitial(t: Tok): boolean {
  return /^\p{Lu}\.$/u.test(t.word);
}

/** Strips a possessive ("Smith's") so the list lookup sees the name. */
function key(t: Tok): string {
  return t.lower.replace(/['’]s$/, '');
}

export const personRecognizer: Recognizer = {
  type: 'PERSON',
  scan(text, lower, out) {
    let ctx: number[] | undefined;
    for (const run of text.matchAll(RUN_RE)) {
      const toks: Tok[] = [];
      for (const t of run[0].matchAll(TOKEN_RE)) {
        const start = run.index + t.index;
        toks.push({ word: t[0], lower: t[0].toLowerCase(), start, end: start + t[0].length });
      }
      // A title just before the run ("Mr. Leiva"), or as its first word.
      const before = lower.slice(Math.max(0, run.index - 6), run.index);
      let titled = /(?:^|[^\p{L}])(?:mr|mrs|ms|miss|dr|prof|sir|mx)\.?\s+$/u.test(before);
      let i = 0;
      if (toks.length > 0 && TITLES.has(toks[0]!.lower.replace(/\.$/, ''))) {
        titled = true;
        i = 1;
      }
      ctx ??= contextIndex(lower, PERSON_CONTEXT);
      scanRun(toks, i, titled, ctx, out);
    }
    for (const m of text.matchAll(INTRO_RE)) {
      const name = m[1]!;
      const start = m.index + m[0].length - name.length;
      if (m.index > 0 && /\p{L}/u.test(text[m.index - 1]!)) continue;
      if (COMMON_WORDS.has(name.split(/[ \t]/)[0]!.toLowerCase())) continue;
      out.push({ type: 'PERSON', start, end: start + name.length, score: 0.6 });
    }
  },
};

function scanRun(toks: Tok[], from: number, titled: boolean, ctx: readonly number[], out: EntitySpan[]): void {
  let i = from;
  while (i < toks.length) {
    const t = toks[i]!;
    const k = key(t);
    const common = COMMON_WORDS.has(k);
    const first = FIRST.has(k) && !common;
    const last = LAST.has(k) && !common;
    if (!(titled && i === from && !common) && !first && !last) {
      i++;
      continue;
    }
    // Extend over following initials, listed names and unknown capitalized words (surnames the list lacks), up to four words.
    let j = i + 1;
    let knownAfter = 0;
    let unknownAfter = 0;
    while (j < toks.length && j - i < 4) {
      const n = toks[j]!;
      const nk = key(n);
      if (COMMON_WORDS.has(nk)) break;
      if (isInitial(n)) {
        j++;
        continue;
      }
      if (SUFFIXES.has(nk.replace(/\.$/, ''))) {
        j++;
        break;
      }
      if (FIRST.has(nk) || LAST.has(nk)) knownAfter++;
      else unknownAfter++;
      j++;
    }
    let score: number;
    if (titled && i === from) score = 0.85;
    else if (first && knownAfter > 0) score = 0.85;
    else if ((first || last) && unknownAfter > 0 && knownAfter === 0) score = first ? 0.65 : 0.45;
    else if (last && knownAfter > 0) score = 0.7;
    else if (first) score = 0.45;
    else score = 0.25;
    const start = t.start;
    const end = toks[j - 1]!.end;
    out.push({ type: 'PERSON', start, end, score: boosted(score, near(ctx, start, end, 32, 12), 0.25) });
    titled = false;
    i = j;
  }
}
