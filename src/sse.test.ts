import { describe, expect, it } from 'vitest';
import { MAX_SSE_EVENT_CHARS, parseSse, SseEventTooLargeError, SseParser, SseStreamTooLongError, type SseEvent } from './sse.js';

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

describe('SSE parser limits', () => {
  it('parses a line that spans thousands of chunks, scanning each chunk once', () => {
    // A 16 MB line in 4 KB chunks: rescanning the pending line on every push made this
    // cost the square of its length (a 300 MB line held the gateway's event loop for minutes).
    const p = new SseParser();
    const chunk = 'a'.repeat(4096);
    expect(p.push('data: ')).toEqual([]);
    for (let i = 0; i < 4096; i++) expect(p.push(chunk)).toEqual([]);
    const [ev] = p.push('\n\n');
    expect(ev?.data.length).toBe(4096 * 4096);
    expect(ev?.data.startsWith('aaaa')).toBe(true);
  });

  it('a \\r at the end of one chunk and \\n at the start of the next are one line end', () => {
    const p = new SseParser();
    expect(p.push('data: one\r')).toEqual([]);
    expect(p.push('\ndata: two\r')).toEqual([]);
    expect(p.push('\r')).toEqual([{ event: undefined, data: 'one\ntwo' }]);
  });

  it('refuses an event that outgrows the limit, in one line or in many data lines, but not a stream of many events', () => {
    const mib = 'b'.repeat(1024 * 1024);
    const long = new SseParser();
    long.push('data: ');
    expect(() => {
      for (let i = 0; i <= MAX_SSE_EVENT_CHARS / mib.length; i++) long.push(mib);
    }).toThrow(SseEventTooLargeError);
    const lines = new SseParser();
    expect(() => {
      for (let i = 0; i <= MAX_SSE_EVENT_CHARS / mib.length; i++) lines.push(`data: ${mib}\n`);
    }).toThrow(/an SSE event longer than 32 MiB/);
    const many = new SseParser();
    let events = 0;
    for (let i = 0; i <= MAX_SSE_EVENT_CHARS / mib.length + 4; i++) events += many.push(`: comment\ndata: ${mib}\n\n`).length;
    expect(events).toBe(MAX_SSE_EVENT_CHARS / mib.length + 5);
  });

  it('stops a stream past its byte limit, after handing over the events before it', async () => {
    const events: SseEvent[] = [];
    const chunks = (async function* () {
      for (let i = 0; i < 100; i++) yield new TextEncoder().encode(`data: ${i}\n\n`);
    })();
    await expect(
      (async () => {
        for await (const ev of parseSse(chunks, 50)) events.push(ev);
      })(),
    ).rejects.toThrow(SseStreamTooLongError);
    expect(events.map((e) => e.data)).toEqual(['0', '1', '2', '3', '4']); // 9 bytes each: the 6th makes 54 > 50
  });
});
