import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptAbort } from '../cancellation.js';
import type { ChatRequest } from '../canonical.js';
import { HttpProvider } from './http-provider.js';
import { openAIAdapter } from './openai/adapter.js';

let server: Server;
let base = '';

/** An OpenAI-shaped answer whose content is `chars` characters, `contentLength` as given or absent. */
function answer(chars: number): string {
  return JSON.stringify({
    id: 'chatcmpl-x',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'q'.repeat(chars) } }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume().on('end', () => {
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      if (q.has('events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const ev = (content: string): string => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
        for (let i = 0; i < Number(q.get('events')); i++) res.write(ev('word '));
        res.end('data: [DONE]\n\n');
        return;
      }
      const chars = Number(q.get('chars'));
      const body = answer(chars);
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length to judge by up front
      for (let i = 0; i < body.length; i += 16_384) res.write(body.slice(i, i + 16_384));
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function provider(chars: number, query = `chars=${chars}`): HttpProvider {
  return new HttpProvider({
    name: 'up',
    type: 'openai',
    maxAnswerBytes: 1024 * 1024,
    adapter: openAIAdapter({ name: 'up', chatUrl: () => `${base}/v1/chat/completions?${query}`, embeddingsUrl: () => `${base}/v1/embeddings`, headers: {}, streamUsage: false }),
  });
}

const req = { model: 'm', messages: [{ role: 'user', content: 'hi' }] } as ChatRequest;

describe('HttpProvider, a whole answer', () => {
  it('takes an answer up to the size limit', async () => {
    const p = provider(1024 * 1024 - 1024);
    const r = await p.chat(req, 'm', { attempt: new AttemptAbort(), ttfbTimeoutMs: 5000 });
    expect(JSON.stringify(r)).toContain('q'.repeat(1000));
    await p.close();
  });

  it('refuses an answer over the limit as upstream_bad_response, without waiting for the rest', async () => {
    const p = provider(8 * 1024 * 1024);
    await expect(p.chat(req, 'm', { attempt: new AttemptAbort(), ttfbTimeoutMs: 5000 })).rejects.toMatchObject({
      code: 'upstream_bad_response',
      status: 502,
      message: "up: the upstream's answer is larger than 1 MiB",
    });
    await p.close();
  });
});

describe('HttpProvider, a streamed answer', () => {
  it('passes a stream under the size limit and cuts one over it with upstream_bad_response', async () => {
    const read = async (events: number): Promise<number> => {
      const p = provider(0, `events=${events}`);
      const it = await p.chatStream({ ...req, stream: true } as ChatRequest, 'm', { attempt: new AttemptAbort(), ttfbTimeoutMs: 5000 });
      let parts = 0;
      try {
        for (let r = await it.next(); !r.done; r = await it.next()) parts++;
      } finally {
        await p.close();
      }
      return parts;
    };
    // About 150 bytes per event: 5,000 events are 0.7 MiB, 10,000 are 1.4 MiB.
    expect(await read(5_000)).toBeGreaterThanOrEqual(5_000);
    await expect(read(10_000)).rejects.toMatchObject({ code: 'upstream_bad_response', message: 'up: a stream longer than 1 MiB' });
  });
});
