/**
 * Dates of birth: a calendar date (numeric or with a month name) is only a date of birth in
 * context ("born on", "DOB", "date of birth", "birthday"), so a bare date scores low and a
 * context word lifts it over the usual threshold.
 */
import { contextWords, hasContext } from '../entity-spans.js';
import { boosted, type Recognizer } from './recognizer.js';
import { dateValid } from './validators.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAME = '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\\.?';
// m/d/yyyy, d.m.yyyy, d-m-yyyy (and two-digit years); yyyy-mm-dd; "March 3, 1990"; "3rd of March 1990".
const DATE_RE = new RegExp(
  [
    '(?<![\\d/.-])(\\d{1,2})([/.-])(\\d{1,2})\\2(\\d{4}|\\d{2})(?![\\d/-]|\\.\\d)',
    '(?<![\\d/.-])(\\d{4})-(\\d{2})-(\\d{2})(?![\\d-])',
    `\\b(${MONTH_NAME})\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`,
    `\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?(${MONTH_NAME}),?\\s+(\\d{4})\\b`,
  ].join('|'),
  'gi',
);
const DOB_CONTEXT = contextWords(['born', 'birth', 'birthday', 'birthdate', 'dob', 'd.o.b', 'date of birth', 'b.', 'née', 'nee', 'geboren', 'geb', 'né', 'nacimiento']);

function monthOf(name: string): number {
  return MONTHS.indexOf(name.slice(0, 3).toLowerCase()) + 1;
}

function fullYear(y: string): number {
  const n = Number(y);
  if (y.length === 4) return n;
  return n + (n > new Date().getFullYear() % 100 ? 1900 : 2000);
}

/** Whether the parts make a plausible birth date; numeric day/month order is ambiguous, so either order will do. */
function plausible(m: RegExpMatchArray): boolean {
  if (m[1] !== undefined) {
    const a = Number(m[1]);
    const b = Number(m[3]);
    const y = fullYear(m[4]!);
    return dateValid(y, a, b) || dateValid(y, b, a);
  }
  if (m[5] !== undefined) return dateValid(Number(m[5]), Number(m[6]), Number(m[7]));
  if (m[8] !== undefined) return dateValid(Number(m[10]), monthOf(m[8]), Number(m[9]));
  return dateValid(Number(m[13]), monthOf(m[12]!), Number(m[11]));
}

export const dateOfBirthRecognizer: Recognizer = {
  type: 'DATE_OF_BIRTH',
  scan(text, lower, out) {
    for (const m of text.matchAll(DATE_RE)) {
      if (!plausible(m)) continue;
      const start = m.index;
      const end = start + m[0].length;
      out.push({ type: 'DATE_OF_BIRTH', start, end, score: boosted(0.2, hasContext(lower, start, end, DOB_CONTEXT, 64, 24), 0.6) });
    }
  },
};
