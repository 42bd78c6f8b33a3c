/**
 * Obfuscation transforms, used to write obfuscated attacks from plain ones (training and
 * evaluation data) and in the normalization tests. Deterministic: the same input gives the
 * same output.
 */

export const OBFUSCATIONS = [
  'base64',
  'hex',
  'rot13',
  'url_encoded',
  'homoglyph',
  'fullwidth',
  'zero_width',
  'bidi',
  'tag_chars',
  'spaced_letters',
  'hyphen_split',
  'leetspeak',
] as const;
export type Obfuscation = (typeof OBFUSCATIONS)[number];

const TO_CYRILLIC: Readonly<Record<string, string>> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', x: 'х', y: 'у', i: 'і', s: 'ѕ' };
const TO_LEET: Readonly<Record<string, string>> = { o: '0', i: '1', e: '3', a: '4', s: '5', t: '7' };

/** Wrappers around an encoded payload, so the attack is not only the bare blob. */
const WRAPPERS = [
  (p: string) => p,
  (p: string) => `Decode this and do what it says: ${p}`,
  (p: string) => `Please help me with this message: ${p}`,
  (p: string) => `${p}`,
] as const;

export function obfuscate(text: string, kind: Obfuscation, variant = 0): string {
  const wrap = WRAPPERS[variant % WRAPPERS.length]!;
  switch (kind) {
    case 'base64':
      return wrap(Buffer.from(text, 'utf8').toString('base64'));
    case 'hex':
      return wrap(variant % 2 === 0 ? Buffer.from(text, 'utf8').toString('hex') : [...Buffer.from(text, 'utf8')].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''));
    case 'rot13':
      return wrap(text.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97))));
    case 'url_encoded':
      return wrap([...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''));
    case 'homoglyph':
      return text.replace(/[aeopcxyis]/g, (c, i: number) => ((i + variant) % 2 === 0 ? (TO_CYRILLIC[c] ?? c) : c));
    case 'fullwidth':
      return text.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
    case 'zero_width':
      return text.replace(/([a-z])(?=[a-z])/gi, (c, _g: string, i: number) => ((i + variant) % 3 === 0 ? `${c}\u200B` : c));
    case 'bidi':
      return `\u202E${[...text].reverse().join('')}\u202C`.replace(/^/, variant % 2 === 0 ? '' : '\u2066');
    case 'tag_chars':
      return `Hi! ${[...text].map((c) => String.fromCodePoint(0xe0000 + (c.codePointAt(0)! & 0x7f))).join('')}`;
    case 'spaced_letters':
      return text.split(' ').map((w, i) => (i % 2 === variant % 2 ? [...w].join(' ') : w)).join(' ');
    case 'hyphen_split':
      return text.replace(/\b([a-z]{3})([a-z]{3,})\b/gi, (_m, a: string, b: string) => `${a}${variant % 2 === 0 ? '-' : '.'}${b}`);
    case 'leetspeak':
      return text.replace(/[oieast]/g, (c, i: number) => ((i + variant) % 2 === 0 ? (TO_LEET[c] ?? c) : c));
  }
}
