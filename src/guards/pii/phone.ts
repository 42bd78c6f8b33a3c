/**
 * Phone numbers, international and national, validated with libphonenumber-js (full
 * metadata). A cheap regex finds digit runs that look like a number; each candidate is
 * parsed: "+..." / "00..." as international, otherwise against a short list of regions.
 * A valid number scores higher than a merely possible one; phone context words raise both.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { lazyRequire } from '../../lazy-require.js';
import { contextWords, hasContext } from '../entity-spans.js';
import { boosted, type Recognizer } from './recognizer.js';

// An optional "+", then digits with single separators (space, dot, dash, parentheses), an optional extension.
const PHONE_RE = /(?<![\w+@.\/-])(?:\+|\(\+?)?\d(?:[ .\-]?(?:\(0\)|\(\d{1,5}\)|\d)){6,19}(?:\s?(?:x|ext\.?|#)\s?\d{1,6})?(?![\w@]|[.\/-]\d)/g;
const PHONE_CONTEXT = contextWords(['phone', 'telephone', 'tel', 'mobile', 'cell', 'fax', 'office', 'desk', 'call', 'calling', 'called', 'number', 'reach', 'text', 'sms', 'whatsapp', 'contact', 'messages', 'dial', 'answering', 'landline', 'home', 'work']);
// Dates and the SSN shape (3-2-4) are not phone numbers.
const DATE_LIKE = /^(?:\d{3}-\d{2}-\d{4}|\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4})$/;
const DATE_TIME_START = /^\d{4}-\d{2}-\d{2}[ T]/;
const NOT_PHONE_CONTEXT = contextWords(['license', 'licence', 'passport', 'zip', 'postcode', 'postal', 'order', 'invoice', 'account number', 'id']);
/**
 * Regions tried for national numbers (no "+"), most common first. Each parse costs 10-50 µs,
 * so the list is short, and a number with a phone word near it is taken on its shape alone.
 */
export const PHONE_REGIONS: readonly CountryCode[] = ['US', 'GB', 'DE', 'FR', 'IN', 'AU'];

/** libphonenumber-js with its full metadata (2.5 MB of heap), loaded at the first phone-shaped candidate. */
const phoneLib = lazyRequire<typeof import('libphonenumber-js/max')>('libphonenumber-js/max');

function nationalValid(candidate: string): boolean {
  for (const region of PHONE_REGIONS) {
    if (phoneLib().parsePhoneNumberFromString(candidate, region)?.isValid()) return true;
  }
  return false;
}

export const phoneRecognizer: Recognizer = {
  type: 'PHONE_NUMBER',
  scan(text, lower, out) {
    // A text often repeats a number (signatures, quoted replies): each distinct candidate is parsed once per scan.
    const parsed = new Map<string, number>();
    for (const m of text.matchAll(PHONE_RE)) {
      const raw = m[0];
      const digits = raw.replace(/\D/g, '');
      if (digits.length < 7 || digits.length > 17 || DATE_LIKE.test(raw) || DATE_TIME_START.test(text.slice(m.index, m.index + 11))) continue;
      const start = m.index;
      const end = start + raw.length;
      const context = hasContext(lower, start, end, PHONE_CONTEXT, 32, 16);
      if (hasContext(lower, start, end, NOT_PHONE_CONTEXT, 24, 0)) continue;
      let score: number;
      const intl = raw.startsWith('+') || raw.startsWith('(+');
      if (intl || raw.startsWith('00')) {
        score = parsed.get(raw) ?? -1;
        if (score < 0) {
          const p = phoneLib().parsePhoneNumberFromString(intl ? raw.replace('(0)', '') : '+' + raw.slice(2));
          score = !p ? 0 : p.isValid() ? 0.75 : p.isPossible() ? 0.45 : 0.2;
          parsed.set(raw, score);
        }
      } else if (context) {
        score = 0.3;
      } else {
        score = parsed.get(raw) ?? -1;
        if (score < 0) parsed.set(raw, (score = nationalValid(raw) ? 0.5 : 0));
        // Plain digit runs without separators are more often ids than phone numbers.
        if (score > 0 && /^\d+$/.test(raw)) score -= 0.15;
      }
      if (score <= 0) continue;
      out.push({ type: 'PHONE_NUMBER', start, end, score: boosted(score, context) });
    }
  },
};
