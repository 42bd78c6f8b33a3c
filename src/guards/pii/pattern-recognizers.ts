/**
 * The pattern-plus-validator recognizers: email addresses, card numbers (Luhn and issuer
 * prefix), IBANs (country length and mod-97), US SSNs (SSA ranges) and IPv4/IPv6 addresses.
 * Base scores follow Presidio's spirit: a checksum makes a match likely, a context word
 * near it ("card", "iban", "ssn", ...) raises it.
 */
import { isIPv6 } from 'node:net';
import { contextWords, hasContext } from '../entity-spans.js';
import type { EntitySpan } from '../types.js';
import { boosted, type Recognizer } from './recognizer.js';
import { cardIssuerKnown, IBAN_LENGTHS, ibanValid, ipv4Valid, luhnValid, ssnValid } from './validators.js';

const EMAIL_RE = /(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])/g;

export const emailRecognizer: Recognizer = {
  type: 'EMAIL_ADDRESS',
  scan(text, _lower, out) {
    for (const m of text.matchAll(EMAIL_RE)) out.push({ type: 'EMAIL_ADDRESS', start: m.index, end: m.index + m[0].length, score: 0.95 });
  },
};

const CARD_RE = /(?<![\d.,-])\d(?:[ -]?\d){11,18}(?![\d-])/g;
const CARD_CONTEXT = contextWords(['card', 'cards', 'credit', 'debit', 'cc', 'visa', 'mastercard', 'amex', 'american express', 'discover', 'jcb', 'diners', 'maestro', 'carte', 'karte', 'tarjeta', 'payment', 'pay']);

export const creditCardRecognizer: Recognizer = {
  type: 'CREDIT_CARD',
  scan(text, lower, out) {
    for (const m of text.matchAll(CARD_RE)) {
      const digits = m[0].replace(/[ -]/g, '');
      if (digits.length < 12 || digits.length > 19 || !luhnValid(digits)) continue;
      // Groups must be separated consistently (all spaces or all dashes or none).
      if (/ /.test(m[0]) && /-/.test(m[0])) continue;
      const start = m.index;
      const end = start + m[0].length;
      const base = cardIssuerKnown(digits) ? 0.6 : 0.3;
      out.push({ type: 'CREDIT_CARD', start, end, score: boosted(base, hasContext(lower, start, end, CARD_CONTEXT)) });
    }
  },
};

const IBAN_START_RE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])/g;
const IBAN_CONTEXT = contextWords(['iban', 'bank', 'account', 'transfer', 'wire', 'sepa', 'konto', 'compte', 'cuenta']);

export const ibanRecognizer: Recognizer = {
  type: 'IBAN_CODE',
  scan(text, lower, out) {
    for (const m of text.matchAll(IBAN_START_RE)) {
      const country = m[0].slice(0, 2).toUpperCase();
      const len = IBAN_LENGTHS[country];
      if (len === undefined) continue;
      // Walk forward over the grouped or ungrouped form until the country's length is reached.
      let chars = m[0].toUpperCase();
      let i = m.index + 4;
      while (chars.length < len && i < text.length) {
        const c = text[i]!;
        if (c === ' ' && chars.length % 4 === 0 && i + 1 < text.length && /[A-Za-z0-9]/.test(text[i + 1]!)) {
          i++;
          continue;
        }
        if (!/[A-Za-z0-9]/.test(c)) break;
        chars += c.toUpperCase();
        i++;
      }
      if (chars.length !== len || (i < text.length && /[A-Za-z0-9]/.test(text[i]!)) || !ibanValid(chars)) continue;
      out.push({ type: 'IBAN_CODE', start: m.index, end: i, score: boosted(0.8, hasContext(lower, m.index, i, IBAN_CONTEXT)) });
    }
  },
};

const SSN_RE = /(?<![\d-])(\d{3})([- .]?)(\d{2})\2(\d{4})(?![\d-])/g;
const SSN_CONTEXT = contextWords(['ssn', 'ssns', 'social security', 'social', 'security number', 'ssa', 'tin', 'taxpayer']);

export const ssnRecognizer: Recognizer = {
  type: 'US_SSN',
  scan(text, lower, out) {
    for (const m of text.matchAll(SSN_RE)) {
      if (!ssnValid(m[1]!, m[3]!, m[4]!)) continue;
      const start = m.index;
      const end = start + m[0].length;
      // Dashed is the usual written form; bare nine digits mean little without context.
      const base = m[2] === '-' ? 0.5 : m[2] === '' ? 0.05 : 0.3;
      out.push({ type: 'US_SSN', start, end, score: boosted(base, hasContext(lower, start, end, SSN_CONTEXT), 0.45) });
    }
  },
};

const IPV4_RE = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)/g;
const IPV6_RE = /(?<![\w:])(?=[0-9A-Fa-f]*:[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}(?:\.\d{1,3}){0,3}(?![\w:])/g;
const IP_CONTEXT = contextWords(['ip', 'ipv4', 'ipv6', 'address', 'host', 'server', 'client', 'blocked', 'ping', 'subnet']);

export const ipRecognizer: Recognizer = {
  type: 'IP_ADDRESS',
  scan(text, lower, out) {
    for (const m of text.matchAll(IPV4_RE)) {
      if (!ipv4Valid(m[0])) continue;
      const end = m.index + m[0].length;
      out.push({ type: 'IP_ADDRESS', start: m.index, end, score: boosted(0.6, hasContext(lower, m.index, end, IP_CONTEXT)) });
    }
    if (text.indexOf(':') < 0) return;
    for (const m of text.matchAll(IPV6_RE)) {
      // Times like 12:30:45 are not IPv6 (isIPv6 says so); "::" alone is not an address to mask.
      if (m[0].length < 3 || !/[0-9A-Fa-f]/.test(m[0]) || !isIPv6(m[0])) continue;
      const end = m.index + m[0].length;
      out.push({ type: 'IP_ADDRESS', start: m.index, end, score: boosted(0.6, hasContext(lower, m.index, end, IP_CONTEXT)) });
    }
  },
};
