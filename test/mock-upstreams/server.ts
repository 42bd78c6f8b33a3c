/**
 * A local mock upstream on port 0 that speaks one provider's wire format (a
 * {@link MockDialect}). Tests queue scenarios (`enqueue`) or set a default one, then
 * assert on the requests it recorded. Faults are applied here, once, for every dialect.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_SCENARIO, type MockDialect, type MockEvent, type MockScenario, type RecordedRequest } from './scenario.js';

export interface MockUpstream {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Answers the next request with this scenario (FIFO); falls back to the default when the queue is empty. */
  enqueue(...s: MockScenario[]): void;
  setDefault(s: MockScenario): void;
  /** Requests whose connection closed before the mock finished answering. */
  readonly aborted: number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function frame(ev: MockEvent): string {
  return `${ev.event === undefined ? '' : `event: ${ev.event}\n`}data: ${ev.data}\n\n`;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startMockUpstream(dialect: MockDialect, defaults: MockScenario = DEFAULT_SCENARIO): Promise<MockUpstream> {
  const queue: MockScenario[] = [];
  let fallback = defaults;
  const requests: RecordedRequest[] = [];
  let aborted = 0;
  const sockets = new Set<import('node:net').Socket>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://mock');
    const body = await readBody(req);
    const path = url.pathname + url.search;
    requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body });
    let finished = false;
    res.on('close', () => {
      if (!finished) aborted++;
    });
    const op = dialect.route(req.method ?? 'GET', url.pathname);
    if (!op) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(dialect.errorBody(404, `no route ${req.method} ${url.pathname}`, undefined)));
      finished = true;
      return;
    }
    const s = queue.shift() ?? fallback;
    if (s.reset) {
      req.socket.destroy();
      return;
    }
    if (s.delayMs) await sleep(s.delayMs);
    if (res.destroyed) return;
    if (s.status !== undefined && s.status >= 400) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (s.retryAfter !== undefined) headers['retry-after'] = s.retryAfter;
      res.writeHead(s.status, headers);
      res.end(JSON.stringify(dialect.errorBody(s.status, s.errorMessage ?? `mock error ${s.status}`, s.errorCode)));
      finished = true;
      return;
    }
    if (op === 'embeddings') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(dialect.embeddings?.(body, path) ?? {}));
      finished = true;
      return;
    }
    if (!dialect.isStream(path, body)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(dialect.success(s, body, path)));
      finished = true;
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const events = dialect.streamEvents(s, body, path);
    for (const [i, ev] of events.entries()) {
      if (res.destroyed) return;
      if (s.stallAfterEvents !== undefined && i === s.stallAfterEvents.events) await sleep(s.stallAfterEvents.ms);
      if (res.destroyed) return;
      if (s.truncateAfterEvents !== undefined && i === s.truncateAfterEvents) {
        // Half an event, then the connection drops.
        res.write(frame(ev).slice(0, Math.max(1, Math.floor(frame(ev).length / 2))));
        await sleep(5);
        req.socket.destroy();
        return;
      }
      if (s.malformedAfterEvents !== undefined && i === s.malformedAfterEvents) {
        res.write(frame({ ...(ev.event === undefined ? {} : { event: ev.event }), data: '{"this is": not json' }));
        res.end();
        finished = true;
        return;
      }
      if (s.endlessLineAfterEvents !== undefined && i === s.endlessLineAfterEvents.events) {
        res.write('data: {"x":"');
        const mib = 'z'.repeat(1024 * 1024);
        for (let n = 0; n < s.endlessLineAfterEvents.mib && !res.destroyed; n++) {
          if (!res.write(mib)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
        finished = true;
        return;
      }
      if (s.errorEventAfterEvents !== undefined && i === s.errorEventAfterEvents) {
        res.write(frame(dialect.streamErrorEvent(s.errorMessage ?? 'mock stream error')));
        res.end();
        finished = true;
        return;
      }
      res.write(frame(ev));
      if (s.chunkDelayMs) await sleep(s.chunkDelayMs);
    }
    res.end();
    finished = true;
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...s) => void queue.push(...s),
    setDefault: (s) => {
      fallback = s;
    },
    get aborted() {
      return aborted;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
