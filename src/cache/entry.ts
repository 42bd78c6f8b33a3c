/**
 * One cached answer: the rendered answer bytes in the inbound wire format (served as is
 * on a hit, only the response id refreshed), the canonical completion (replayed as an SSE
 * stream when the hit is a streaming request) and what the original call cost in tokens.
 */
import type { Usage } from '../canonical.js';

export interface CacheEntry {
  /** The non-streamed answer, as the inbound format renders it. */
  body: string;
  /** Where the response id's characters sit in `body` ([idStart, idEnd)); -1 when not found. */
  idStart: number;
  idEnd: number;
  /**
   * Chat: the canonical completion as JSON, for stream replay. Embeddings: the answer's
   * shape (`embeddingsShape`) as JSON, what a hit's trace keeps of it.
   */
  completion: string;
  /** Token usage of the call that produced the answer: what a hit saves. */
  usage: Usage | null;
  provider: string;
  model: string;
  finishReason: string | null;
  /** When the answer was stored, ms since epoch. */
  createdAt: number;
}

/** The answer's own `"id"` near the start of the body (OpenAI and Anthropic bodies put it first). */
const ID = /"id"\s*:\s*"([A-Za-z0-9_.:-]+)"/;

/** Builds an entry, locating the response id in the body so hits can give each answer its own id. */
export function makeEntry(body: string, completion: unknown, fields: Pick<CacheEntry, 'usage' | 'provider' | 'model' | 'createdAt' | 'finishReason'>): CacheEntry {
  let idStart = -1;
  let idEnd = -1;
  const m = ID.exec(body.slice(0, 256));
  if (m) {
    idEnd = m.index + m[0].length - 1;
    idStart = idEnd - m[1]!.length;
  }
  return { body, idStart, idEnd, completion: JSON.stringify(completion), ...fields };
}

let seq = 0;
const base = Math.floor(Math.random() * 36 ** 6).toString(36);

/** A fresh id shaped like `original` (same prefix up to its first `-` or `_`). */
export function freshId(original: string): string {
  const m = /^[A-Za-z]+[-_]/.exec(original);
  return `${m ? m[0] : 'chatcmpl-'}cache${base}${(seq++).toString(36)}`;
}

/** The body with a fresh response id: two string slices, no JSON work. */
export function bodyWithFreshId(e: CacheEntry): string {
  if (e.idStart < 0) return e.body;
  return e.body.slice(0, e.idStart) + freshId(e.body.slice(e.idStart, e.idEnd)) + e.body.slice(e.idEnd);
}

/** Approximate memory held by an entry, for the memory backend's byte bound. */
export function entrySize(e: CacheEntry): number {
  return 2 * (e.body.length + e.completion.length) + 200;
}

/** One-string form for Redis: a small header line, the completion line, then the body (read without parsing it). */
export function encodeEntry(e: CacheEntry): string {
  const head = JSON.stringify({ u: e.usage, p: e.provider, m: e.model, f: e.finishReason, t: e.createdAt, s: e.idStart, e: e.idEnd });
  return `${head}\n${e.completion}\n${e.body}`;
}

export function decodeEntry(text: string): CacheEntry | undefined {
  const a = text.indexOf('\n');
  const b = a < 0 ? -1 : text.indexOf('\n', a + 1);
  if (b < 0) return undefined;
  try {
    const h = JSON.parse(text.slice(0, a)) as { u: Usage | null; p: string; m: string; f: string | null; t: number; s: number; e: number };
    return { usage: h.u, provider: h.p, model: h.m, finishReason: h.f, createdAt: h.t, idStart: h.s, idEnd: h.e, completion: text.slice(a + 1, b), body: text.slice(b + 1) };
  } catch {
    return undefined;
  }
}
