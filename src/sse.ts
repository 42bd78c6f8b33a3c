/**
 * Server-Sent Events framing: parsing an upstream byte stream into events (per the WHATWG
 * spec: `\n`, `\r\n` or `\r` line ends, multi-line `data`, `:` comments) and writing events.
 */
import { mib } from './bytes.js';

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/**
 * The most an event's lines may hold (32 MiB of text, its `data` lines together). A chat
 * chunk is well under 1 KB and a whole answer in one event a few MB; the cap keeps one
 * upstream that never ends its line (or its event) from taking the gateway's memory.
 */
export const MAX_SSE_EVENT_CHARS = 32 * 1024 * 1024;

/** An upstream's event outgrew {@link MAX_SSE_EVENT_CHARS}. */
export class SseEventTooLargeError extends Error {
  constructor() {
    super(`an SSE event longer than ${mib(MAX_SSE_EVENT_CHARS)} MiB`);
    this.name = 'SseEventTooLargeError';
  }
}

/**
 * Incremental SSE parser: feed it text, it returns the completed events. Each push scans
 * only the text it is given: a line that spans many chunks is kept as its parts and joined
 * once it ends (scanning the whole pending line again on every chunk made a long line cost
 * the square of its length, and held the event loop for minutes).
 *
 * @example
 * const p = new SseParser();
 * p.push('data: {"a":1}\n\n'); // → [{ event: undefined, data: '{"a":1}' }]
 */
export class SseParser {
  /** The current line's text so far, in the pieces it came in. */
  private pending: string[] = [];
  /** Characters held: the pending line's, and the current event's data lines'. */
  private lineSize = 0;
  private dataSize = 0;
  /** The last push ended in '\r': a '\n' starting the next one belongs to it. */
  private skipLf = false;
  private eventName: string | undefined;
  private data: string[] = [];

  push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    if (this.skipLf) {
      this.skipLf = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.grow(i - start);
      this.line(this.takeLine(text.slice(start, i)), out);
      if (c === 13) {
        if (i + 1 === text.length) this.skipLf = true;
        else if (text.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    if (start < text.length) {
      this.grow(text.length - start);
      this.pending.push(start === 0 ? text : text.slice(start));
    }
    return out;
  }

  /**
   * Ends the stream. An event left without its closing blank line is still dispatched:
   * some servers omit it after the last event. Whether the stream was complete is for the
   * provider's decoder to judge (a missing `[DONE]` or `message_stop`, or half a JSON).
   */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.pending.length > 0) this.line(this.takeLine(''), out);
    this.line('', out);
    return out;
  }

  private grow(chars: number): void {
    this.lineSize += chars;
    if (this.lineSize + this.dataSize > MAX_SSE_EVENT_CHARS) throw new SseEventTooLargeError();
  }

  /** The pending pieces and `last` as one line; the pending line is empty again. */
  private takeLine(last: string): string {
    this.lineSize = 0;
    if (this.pending.length === 0) return last;
    this.pending.push(last);
    const line = this.pending.join('');
    this.pending = [];
    return line;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line.length === 0) {
      if (this.data.length > 0) out.push({ event: this.eventName, data: this.data.join('\n') });
      this.data = [];
      this.eventName = undefined;
      this.dataSize = 0;
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.dataSize += value.length;
    } else if (field === 'event') this.eventName = value;
  }
}

/** A stream outgrew the `maxBytes` given to {@link parseSse}. */
export class SseStreamTooLongError extends Error {
  constructor(maxBytes: number) {
    super(`a stream longer than ${mib(maxBytes)} MiB`);
    this.name = 'SseStreamTooLongError';
  }
}

/** Parses a byte stream into SSE events; past `maxBytes` of input it throws {@link SseStreamTooLongError}. */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>, maxBytes = Infinity): AsyncGenerator<SseEvent> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > maxBytes) throw new SseStreamTooLongError(maxBytes);
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
