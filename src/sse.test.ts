import { describe, expect, it } from 'vitest';
import { parseSse, SseParser, type SseEvent } from './sse.js';

async function all(chunks: string[]): Promise<SseEvent[]> {
  const out: SseEvent[] = [];
  for await (const ev of parseSse((async function* () {
    for (const c of chunks) yield new TextEncoder().encode(c);
  })())) out.push(ev);
  return out;
}

describe('SSE parser', () => {
  it('parses events split at any byte, with \\n, \\r\\n and \\r line ends', async () => {
    const text = 'event: a\r\ndata: {"x":1}\r\n\r\ndata: two\rdata: lines\r\r: comment\n\ndata:nospace\n\n';
    const expected = [
      { event: 'a', data: '{"x":1}' },
      { event: undefined, data: 'two\nlines' },
      { event: undefined, data: 'nospace' },
    ];
    for (let split = 1; split < text.length; split++) {
      expect(await all([text.slice(0, split), text.slice(split)])).toEqual(expected);
    }
  });

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: héllo 🌍\n\n');
    const out: SseEvent[] = [];
    for await (const ev of parseSse((async function* () {
      for (const b of bytes) yield new Uint8Array([b]);
    })())) out.push(ev);
    expect(out).toEqual([{ event: undefined, data: 'héllo 🌍' }]);
  });

  it('hands over what is left when a stream ends mid-event, for the decoder to judge', () => {
    const p = new SseParser();
    expect(p.push('data: {"partial":')).toEqual([]);
    expect(p.end()).toEqual([{ event: undefined, data: '{"partial":' }]);
  });

  it('dispatches a final event whose closing blank line is missing', () => {
    const p = new SseParser();
    p.push('data: [DONE]\n');
    expect(p.end()).toEqual([{ event: undefined, data: '[DONE]' }]);
    expect(new SseParser().end()).toEqual([]);
  });
});
