import { describe, expect, it } from 'vitest';
import { mask, StreamingUnmasker, unmask } from './mask.js';
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
});
