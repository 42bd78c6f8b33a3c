/**
 * `POST /v1/traces` (OTLP/HTTP): a Fastify plugin with its own body parser (raw bytes, not
 * JSON), so it takes `application/x-protobuf` and `application/json`, optionally compressed
 * (gzip, deflate or br). Any valid key may send spans (checked before the body is read); the
 * answer is an ExportTraceServiceResponse in the request's encoding. Errors use the
 * gateway's OpenAI-shaped error body.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { LlmopsError } from '../errors.js';
import { contentCodings, decodeBody } from '../http-encoding.js';
import type { KeyService, Principal } from '../keys/key-service.js';
import type { Logger } from '../logger.js';
import { bearerToken } from '../pipeline/authenticate.js';
import { decodeTraceRequest, encodeTraceResponse, OtlpDecodeError, type DecodedResourceSpans, type OtlpEncoding } from './otlp-codec.js';
import type { OtlpIngest } from './otlp-ingest.js';

export interface OtlpRouteDeps {
  ingest: OtlpIngest;
  keys: KeyService;
  /** Largest body accepted, compressed or not (the server's body limit). */
  bodyLimit: number;
  log: Logger;
}

const CONTENT_TYPES: Record<string, OtlpEncoding> = {
  'application/x-protobuf': 'protobuf',
  'application/protobuf': 'protobuf',
  'application/json': 'json',
};

function encodingOf(contentType: string | undefined): OtlpEncoding {
  const base = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const enc = CONTENT_TYPES[base];
  if (!enc) {
    throw new LlmopsError(
      'unsupported_media_type',
      `POST /v1/traces takes OTLP as application/x-protobuf or application/json, not '${base || '(none)'}'.`,
    );
  }
  return enc;
}

/**
 * The OTLP/HTTP traces receiver as a Fastify plugin.
 * @example
 * app.register(otlpRoute({ ingest, keys, bodyLimit: 10 * 1024 * 1024, log }));
 */
export function otlpRoute(deps: OtlpRouteDeps): FastifyPluginAsync {
  const principals = new WeakMap<FastifyRequest, Principal>();
  return async (app: FastifyInstance) => {
    // This plugin's own parsers (Fastify encapsulates them): the raw bytes, decoded below.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body));

    // Authenticate before the body is read, so anonymous senders cannot make us parse anything.
    app.addHook('onRequest', async (req) => {
      principals.set(req, await deps.keys.authenticate(bearerToken(req.headers)));
    });

    app.post('/v1/traces', async (req, reply) => {
      const principal = principals.get(req);
      if (!principal) throw new LlmopsError('missing_api_key', 'No API key provided.');
      let encoding: OtlpEncoding = 'json';
      let resourceSpans: DecodedResourceSpans[];
      try {
        encoding = encodingOf(req.headers['content-type']);
        const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        const body = await decodeBody(raw, contentCodings(req.headers['content-encoding']), deps.bodyLimit);
        resourceSpans = decodeTraceRequest(body, encoding);
      } catch (err) {
        deps.ingest.stats.badRequests++;
        if (err instanceof OtlpDecodeError) {
          deps.log.debug('OTLP ingest: bad request body', { err, encoding });
          const code = encoding === 'json' && err.message.startsWith('not valid JSON') ? 'invalid_json' : 'invalid_request';
          throw new LlmopsError(code, `POST /v1/traces: the body is ${err.message}`, { cause: err });
        }
        throw err;
      }
      const result = deps.ingest.ingest(resourceSpans, { keyId: principal.keyId ?? 'admin', keyName: principal.name });
      if (result.rejected > 0) deps.log.warn('OTLP ingest: spans rejected', { rejected: result.rejected, accepted: result.accepted, reason: result.message });
      return reply
        .code(200)
        .type(encoding === 'json' ? 'application/json' : 'application/x-protobuf')
        .send(encodeTraceResponse(result.rejected, result.message, encoding));
    });
  };
}
