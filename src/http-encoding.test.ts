import { brotliCompressSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LlmopsError } from './errors.js';
import { contentCodings, decodeBody } from './http-encoding.js';

describe('contentCodings', () => {
  it('lists the codings in the order applied, case and spaces aside, identity left out', () => {
    expect(contentCodings(undefined)).toEqual([]);
    expect(contentCodings('')).toEqual([]);
    expect(contentCodings('identity')).toEqual([]);
    expect(contentCodings(' GZip , br')).toEqual(['gzip', 'br']);
    expect(contentCodings(['x-gzip', 'deflate'])).toEqual(['gzip', 'deflate']);
  });

  it('refuses a coding it cannot decode with 415, naming it', () => {
    for (const header of ['zstd', 'gzip, compress', 'gzip;q=1']) {
      let caught: unknown;
      try {
        contentCodings(header);
      } catch (err) {
        caught = err;
      }
      expect(caught, header).toBeInstanceOf(LlmopsError);
      expect((caught as LlmopsError).code).toBe('unsupported_media_type');
      expect((caught as LlmopsError).status).toBe(415);
    }
    expect(() => contentCodings('zstd')).toThrow("Content-Encoding 'zstd' is not supported");
  });
});

describe('decodeBody', () => {
  it('undoes stacked codings last first', async () => {
    const text = 'x'.repeat(10_000);
    const body = brotliCompressSync(gzipSync(text));
    expect((await decodeBody(body, ['gzip', 'br'], 1 << 20)).toString()).toBe(text);
  });

  it('holds the limit at every stage: a bomb inside another coding is a 413', async () => {
    // The outer brotli stage decodes to ~1 KB of gzip; the gzip inside holds 1 MiB.
    const body = brotliCompressSync(gzipSync(Buffer.alloc(1 << 20)));
    await expect(decodeBody(body, ['gzip', 'br'], 64 * 1024)).rejects.toMatchObject({ code: 'request_too_large', status: 413 });
  });

  it('says which coding the bytes are not', async () => {
    await expect(decodeBody(Buffer.from('plain'), ['deflate'], 1024)).rejects.toMatchObject({ code: 'invalid_request', message: expect.stringMatching(/^The request body is not valid deflate: /) });
  });
});
