/**
 * Server-Sent Events framing: parsing an upstream byte stream into events (per the WHATWG
 * spec: `\n`, `\r\n` or `\r` line ends, multi-line `data`, `:` comments) and writing events.
 */

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * Incremental SSE parser: feed it text, it returns the completed events.
 *
 * @example
 * const p = new SseParser();
 * p.push('data: {"a":1}\n\n'); // → [{ event: undefined, data: '{"a":1}' }]
 */
export class SseParser {
  private buffer = '';
  private eventName: string | undefined;
  private data: string[] = [];

  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    this.buffer += text;
    let start = 0;
    const buf = this.buffer;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A lone '\r' at the very end may be the first half of '\r\n': wait for more input.
      if (c === 13 && i === buf.length - 1) break;
      this.line(buf.slice(start, i), out);
      if (c === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.buffer = buf.slice(start);
    return out;
  }

  /**
   * Ends the stream. An event left without its closing blank line is still dispatched:
   * some servers omit it after the last event. Whether the stream was complete is for the
   * provider's decoder to judge (a missing `[DONE]` or `message_stop`, or half a JSON).
   */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.buffer.length > 0) {
      const rest = this.buffer.replace(/\r$/, '');
      this.buffer = '';
      if (rest.length > 0) this.line(rest, out);
    }
    this.line('', out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      if (this.data.length > 0) out.push({ event: this.eventName, data: this.data.join('\n') });
      this.data = [];
      this.eventName = undefined;
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventName = value;
  }
}

/** Parses a byte stream into SSE events. */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (const ev of parser.push(text)) yield ev;
  }
  const tail = decoder.decode();
  if (tail) for (const ev of parser.push(tail)) yield ev;
  for (const ev of parser.end()) yield ev;
}

/** One SSE frame. `data` is written as is; it must not contain newlines (JSON never does). */
export function sseFrame(data: string, event?: string): string {
  return event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
}
