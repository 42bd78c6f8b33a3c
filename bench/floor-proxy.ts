/**
 * The floor for the gateway benchmark: the least an HTTP proxy written for Node.js does,
 * run on the same CPU as the gateway, so the gateway's figures can be read against what
 * this machine allows any Node proxy rather than only against the mock called directly
 * (which shares the harness's CPU and pays no cross-CPU hop). No keys, no validation, no
 * translation, no routing, no traces: node:http in, the body read whole, forwarded as is
 * with undici (the gateway's HTTP client) to the mock at the same path, and the answer
 * written back with its length (a stream is piped through). Under `/cached/...` an answer
 * is kept per request body and repeated without calling the mock: the floor for an exact
 * cache hit.
 *
 * Usage: node dist/bench/floor-proxy.js --upstream http://127.0.0.1:PORT [--port N]
 * Prints `{"event":"listening","port":N}` on stdout once it accepts requests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { serveAsChild } from './child-server.js';
import { Agent } from 'undici';

const { values } = parseArgs({
  options: { upstream: { type: 'string' }, port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
  strict: true,
});
if (!values.upstream) {
  process.stderr.write('floor-proxy: --upstream is required\n');
  process.exit(2);
}
const upstream = values.upstream;
const agent = new Agent({ keepAliveTimeout: 60_000, connections: 256 });
const CACHED = '/cached';
const cache = new Map<string, string>();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req);
  const url = req.url ?? '/';
  const cached = url.startsWith(`${CACHED}/`);
  if (cached) {
    const hit = cache.get(body);
    if (hit !== undefined) return sendText(res, 200, hit);
  }
  const path = cached ? url.slice(CACHED.length) : url;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  const r = await agent.request({ origin: upstream, path, method: 'POST', headers, body });
  const type = String(r.headers['content-type'] ?? '');
  if (type.startsWith('text/event-stream')) {
    res.writeHead(r.statusCode, { 'content-type': type, 'cache-control': 'no-cache' });
    for await (const chunk of r.body) res.write(chunk);
    res.end();
    return;
  }
  const text = await r.body.text();
  if (cached && r.statusCode === 200) cache.set(body, text);
  sendText(res, r.statusCode, text);
}

const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (res.headersSent) res.destroy();
    else sendText(res, 502, JSON.stringify({ error: { message: err instanceof Error ? err.message : String(err), type: 'floor_proxy_error' } }));
  });
});
server.keepAliveTimeout = 65_000;
serveAsChild(server, Number(values.port), values.host);
