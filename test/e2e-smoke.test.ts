import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, waitForTraces, type TestGateway } from './helpers/gateway.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ providers: { demo: {} }, models: { demo: { targets: [{ provider: 'demo', model: 'demo-chat' }] } } });
});
afterAll(() => t.close());

it('answers a chat completion through the demo provider and records a trace', async () => {
  const res = await fetch(`${t.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-llmops-provider')).toBe('demo');
  const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
  expect(body.choices[0]?.message.content).toContain('demo model');
  await waitForTraces(t.gw, 1);
});
