import { describe, expect, it } from 'vitest';
import { jsonEscape, mask, maskSpans, MaskVault, StreamingUnmasker, unmask } from './mask.js';
import { PiiDetector } from './pii/index.js';

describe('mask', () => {
  const text = 'Mail jane.doe@example.com, cc jane.doe@example.com and bob@example.org';
  const spans = new PiiDetector().detect(text);

  it('uses typed, numbered placeholders, the same one for the same value', () => {
    const r = mask(text, spans);
    expect(r.text).toBe('Mail <EMAIL_ADDRESS_1>, cc <EMAIL_ADDRESS_1> and <EMAIL_ADDRESS_2>');
    expect(r.counts).toEqual({ EMAIL_ADDRESS: 3 });
    expect([...r.placeholders]).toEqual([
      ['<EMAIL_ADDRESS_1>', 'jane.doe@example.com'],
      ['<EMAIL_ADDRESS_2>', 'bob@example.org'],
    ]);
  });

  it('round-trips through unmask and leaves unknown placeholders alone', () => {
    const r = mask(text, spans);
    expect(unmask(r.text, r.placeholders)).toBe(text);
    expect(unmask('see <EMAIL_ADDRESS_9> and <EMAIL_ADDRESS_2>', r.placeholders)).toBe('see <EMAIL_ADDRESS_9> and bob@example.org');
  });

  it('restores placeholders split across stream chunks, at every split point', () => {
    const r = mask(text, spans);
    const answer = `Sure, I wrote to ${'<EMAIL_ADDRESS_2>'} and <EMAIL_ADDRESS_1>. a < b <x>`;
    const expected = unmask(answer, r.placeholders);
    for (let cut = 0; cut <= answer.length; cut++) {
      for (const size of [1, 3, cut || 1]) {
        const u = new StreamingUnmasker(r.placeholders);
        let out = u.push(answer.slice(0, cut));
        for (let i = cut; i < answer.length; i += size) out += u.push(answer.slice(i, i + size));
        out += u.flush();
        expect(out).toBe(expected);
      }
    }
  });

  it('holds back only what could still become a placeholder', () => {
    const u = new StreamingUnmasker(new Map([['<PERSON_1>', 'Ada']]));
    expect(u.push('Hi <PER')).toBe('Hi ');
    expect(u.push('SON_1>!')).toBe('Ada!');
    expect(u.push('a <b')).toBe('a <b');
    expect(u.push(' <')).toBe(' ');
    expect(u.flush()).toBe('<');
  });

  it('keeps one vault across the texts of a call, and masks irreversibly without one', () => {
    const v = new MaskVault();
    const a = mask('Ada <a@b.co>', [{ type: 'EMAIL_ADDRESS', start: 5, end: 11, score: 1 }], v);
    const b = maskSpans('cc a@b.co, c@d.co', [{ type: 'EMAIL_ADDRESS', start: 11, end: 17, score: 1 }, { type: 'EMAIL_ADDRESS', start: 3, end: 9, score: 1 }], v);
    expect(a.text).toBe('Ada <<EMAIL_ADDRESS_1>>');
    expect(b).toBe('cc <EMAIL_ADDRESS_1>, <EMAIL_ADDRESS_2>');
    expect(v.size).toBe(2);
    expect(v.restore(b)).toBe('cc a@b.co, c@d.co');
    expect(maskSpans('mail a@b.co', [{ type: 'EMAIL_ADDRESS', start: 5, end: 11, score: 1 }])).toBe('mail [EMAIL_ADDRESS]');
  });

  it('escapes restored values for JSON, also across stream chunks', () => {
    const ph = new Map([['<PERSON_1>', 'A "B" \\ C']]);
    const args = '{"name":"<PERSON_1>"}';
    expect(JSON.parse(unmask(args, ph, jsonEscape))).toEqual({ name: 'A "B" \\ C' });
    for (let size = 1; size < args.length; size++) {
      const u = new StreamingUnmasker(ph, jsonEscape);
      let out = '';
      for (let i = 0; i < args.length; i += size) out += u.push(args.slice(i, i + size));
      out += u.flush();
      expect(JSON.parse(out)).toEqual({ name: 'A "B" \\ C' });
    }
  });
});
