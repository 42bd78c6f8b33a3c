/**
 * Request bodies sent compressed (`Content-Encoding`): gzip, deflate and br are decoded
 * (several codings in the order they were applied, as HTTP lists them), identity passes
 * through, anything else is a 415. The body limit holds for the decoded size as well as for
 * the bytes received, so a small gzip bomb is a 413 rather than gigabytes of memory.
 */
import { brotliDecompress, gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import { promisify } from 'node:util';
import { LlmopsError } from './errors.js';

export type ContentCoding = 'gzip' | 'deflate' | 'br';

const gunzipAsync = promisify<Buffer, ZlibOptions, Buffer>(gunzip);
const inflateAsync = promisify<Buffer, ZlibOptions, Buffer>(inflate);
const inflateRawAsync = promisify<Buffer, ZlibOptions, Buffer>(inflateRaw);
const brotliAsync = promisify<Buffer, ZlibOptions, Buffer>(brotliDecompress);

/** What a request without the header gets (most of them: shared, not made per call). */
const NONE: readonly ContentCoding[] = Object.freeze([]);

const NAMES: Record<string, ContentCoding | 'identity'> = { gzip: 'gzip', 'x-gzip': 'gzip', deflate: 'deflate', br: 'br', identity: 'identity' };

/**
 * The codings a `Content-Encoding` header lists, in the order they were applied (identity
 * left out): `[]` for a plain body.
 * @throws LlmopsError `unsupported_media_type` (415) naming a coding this gateway cannot decode
 * @example
 * contentCodings('gzip'); // ['gzip']
 * contentCodings(undefined); // []
 */
export function contentCodings(header: string | string[] | undefined): readonly ContentCoding[] {
  if (header === undefined) return NONE;
  const out: ContentCoding[] = [];
  for (const part of (Array.isArray(header) ? header.join(',') : header).split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '') continue;
    const coding = NAMES[name];
    if (coding === undefined) {
      throw new LlmopsError('unsupported_media_type', `Content-Encoding '${name}' is not supported: send the body uncompressed, or as gzip, deflate or br.`);
    }
    if (coding !== 'identity') out.push(coding);
  }
  return out;
}

/**
 * The body with its codings undone, last applied first.
 * @param limit the most bytes any decoded stage may hold
 * @throws LlmopsError `request_too_large` (413) past `limit`; `invalid_request` (400) for bytes that are not what the header says
 */
export async function decodeBody(body: Buffer, codings: readonly ContentCoding[], limit: number): Promise<Buffer> {
  let out = body;
  for (let i = codings.length - 1; i >= 0; i--) out = await decodeOne(out, codings[i]!, limit);
  return out;
}

async function decodeOne(body: Buffer, coding: ContentCoding, limit: number): Promise<Buffer> {
  const opts: ZlibOptions = { maxOutputLength: limit };
  try {
    if (coding === 'gzip') return await gunzipAsync(body, opts);
    if (coding === 'br') return await brotliAsync(body, opts);
    try {
      return await inflateAsync(body, opts);
    } catch (err) {
      // HTTP's deflate is zlib-wrapped (RFC 9110), but some clients send raw deflate.
      if ((err as { code?: unknown }).code !== 'Z_DATA_ERROR') throw err;
      return await inflateRawAsync(body, opts);
    }
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new LlmopsError('request_too_large', `The request body is larger than the limit of ${limit} bytes once decompressed (${coding}).`, { cause: err });
    }
    throw new LlmopsError('invalid_request', `The request body is not valid ${coding}: ${(err as Error).message}`, { cause: err });
  }
}
