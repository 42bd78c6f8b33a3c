/**
 * A local OTLP/HTTP collector mock on 127.0.0.1, port 0: records every export request
 * (headers, raw body) and decodes it (protobuf or JSON, gzip too) into spans. Tests queue
 * HTTP statuses to answer with (`failNext`) to exercise retries.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeTraceRequest, type DecodedResourceSpans, type DecodedSpan } from '../../src/otel/otlp-codec.js';

export interface CollectedRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
  resourceSpans: DecodedResourceSpans[];
}

export interface MockCollector {
  /** The traces endpoint, e.g. http://127.0.0.1:PORT/v1/traces */
  readonly url: string;
  readonly requests: CollectedRequest[];
  /** Every span received (successful requests only), in arrival order. */
  spans(): DecodedSpan[];
  /** Answers the next requests with these statuses (then 200 again). */
  failNext(...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startMockCollector(): Promise<MockCollector> {
  const requests: CollectedRequest[] = [];
  const accepted: CollectedRequest[] = [];
  const failures: number[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const json = (req.headers['content-type'] ?? '').startsWith('application/json');
      const resourceSpans = req.method === 'POST' && req.url === '/v1/traces' ? decodeTraceRequest(body, json ? 'json' : 'protobuf') : [];
      const r = { headers: req.headers, body, resourceSpans };
      requests.push(r);
      const status = failures.shift();
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'text/plain', 'retry-after': '0' });
        res.end('collector says no');
        return;
      }
      accepted.push(r);
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    requests,
    spans: () => accepted.flatMap((r) => r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))),
    failNext: (...statuses) => void failures.push(...statuses),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
