/**
 * A minimal, very fast OpenAI-compatible upstream for the gateway benchmark, run as its own
 * process so it never shares the gateway's event loop. `POST .../chat/completions` answers
 * with a precomputed JSON body (with usage), or a precomputed SSE stream when the request
 * body contains `"stream":true`; `GET /stats` reports how many completions it served.
 * A path under `/delay/<ms>/` (e.g. `/delay/20/v1/chat/completions`) answers after `ms`
 * milliseconds, to stand in for a real model's latency without using CPU; under
 * `/delay/body/` after the time the request's body names as `[mock-delay-ms N]` (the
 * load generator's per-request delays). That answer's id is `chatcmpl-held-<ms>`: how long
 * the mock really held the request (timers are only as precise as the event loop), which
 * the load generator subtracts from the request's latency.
 *
 * Usage: node dist/bench/mock-upstream.js [--port N] [--host H]
 * Prints one JSON line `{"event":"listening","port":N}` on stdout once it accepts requests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { serveAsChild } from './child-server.js';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
  strict: true,
});

const CREATED = 1_700_000_000;
const BENCH_ID = 'chatcmpl-bench0000000000000000000000';
const JSON_TEXT = JSON.stringify({
  id: BENCH_ID,
  object: 'chat.completion',
  created: CREATED,
  model: 'gpt-4o-mini-2024-07-18',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    },
  ],
  usage: {
    prompt_tokens: 9,
    completion_tokens: 9,
    total_tokens: 18,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  },
  system_fingerprint: 'fp_bench',
});
const JSON_BODY = Buffer.from(JSON_TEXT);

function sseBody(): Buffer {
  const base = { id: BENCH_ID, object: 'chat.completion.chunk', created: CREATED, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_bench' };
  const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const parts = [chunk({ role: 'assistant', content: '', refusal: null }, null)];
  for (const piece of ['Hello!', ' How', ' can', ' I', ' help', ' you', ' today?']) parts.push(chunk({ content: piece }, null));
  parts.push(chunk({}, 'stop'));
  parts.push(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 } })}\n\n`);
  parts.push('data: [DONE]\n\n');
  return Buffer.from(parts.join(''));
}
const SSE_BODY = sseBody();

// Precomputed header lists (flat [name, value, ...] arrays skip per-request object walks).
const JSON_HEADERS = ['content-type', 'application/json', 'content-length', String(JSON_BODY.length)];
const SSE_HEADERS = ['content-type', 'text/event-stream; charset=utf-8', 'cache-control', 'no-cache', 'content-length', String(SSE_BODY.length)];
const STREAM_MARK = Buffer.from('"stream":true');

const DELAY_MARK = /\[mock-delay-ms (\d+(?:\.\d+)?)\]/;

let served = 0;
let streamed = 0;

/** `heldSince`: a `/delay/body/` request's arrival (performance.now()), whose JSON answer's id says how long it was held. */
function answer(res: ServerResponse, stream: boolean, heldSince?: number): void {
  if (stream) {
    streamed++;
    res.writeHead(200, SSE_HEADERS);
    res.end(SSE_BODY);
  } else if (heldSince !== undefined) {
    served++;
    const body = Buffer.from(JSON_TEXT.replace(BENCH_ID, `chatcmpl-held-${(performance.now() - heldSince).toFixed(3)}`));
    res.writeHead(200, ['content-type', 'application/json', 'content-length', String(body.length)]);
    res.end(body);
  } else {
    served++;
    res.writeHead(200, JSON_HEADERS);
    res.end(JSON_BODY);
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  if (req.method === 'POST' && url.endsWith('/chat/completions')) {
    // Read the whole body; look for `"stream":true` without parsing JSON.
    let stream = false;
    const fromBody = url.startsWith('/delay/body/');
    let text = '';
    req.on('data', (chunk: Buffer) => {
      if (!stream && chunk.includes(STREAM_MARK)) stream = true;
      if (fromBody) text += chunk.toString('latin1');
    });
    if (fromBody) {
      req.on('end', () => {
        const m = DELAY_MARK.exec(text);
        if (!m) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end('{"error":{"message":"/delay/body/ needs [mock-delay-ms N] in the body","type":"invalid_request_error"}}');
          return;
        }
        setTimeout(answer, Number(m[1]), res, stream, performance.now());
      });
      return;
    }
    const delay = url.startsWith('/delay/') ? Number.parseInt(url.slice(7), 10) : 0;
    if (delay > 0) req.on('end', () => setTimeout(answer, delay, res, stream));
    else req.on('end', () => answer(res, stream));
    return;
  }
  if (req.method === 'GET' && url === '/stats') {
    const body = JSON.stringify({ served, streamed });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  req.resume();
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
}

const server = createServer({ keepAliveTimeout: 120_000, noDelay: true }, handle);
server.keepAliveTimeout = 120_000;
serveAsChild(server, Number(values.port), values.host);
