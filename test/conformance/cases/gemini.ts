/** Conformance case for the `gemini` provider (Google AI `generateContent`), against the Gemini wire mock. */
import { expect } from 'vitest';
import { createGeminiProvider } from '../../../src/providers/gemini/index.js';
import { geminiDialect } from '../../mock-upstreams/gemini.js';
import type { ProviderCase } from '../provider-case.js';

const MODEL = 'gemini-2.5-flash';
const WEATHER_QUESTION = { role: 'user', parts: [{ text: 'What is the weather in Paris?' }] };

export const geminiCase: ProviderCase = {
  name: 'gemini',
  dialect: geminiDialect,
  create: (url) => createGeminiProvider('gemini', { api_key: 'gm-test-key', base_url: url }),
  model: MODEL,
  supports: { embeddings: true, cachedTokens: true, reasoningTokens: true, cacheWriteTokens: false },
  checkUpstreamRequest(kind, request, upstream, stream) {
    expect(upstream.method).toBe('POST');
    expect(upstream.path).toBe(stream ? `/v1beta/models/${MODEL}:streamGenerateContent?alt=sse` : `/v1beta/models/${MODEL}:generateContent`);
    expect(upstream.headers['x-goog-api-key']).toBe('gm-test-key');
    expect(upstream.headers.authorization).toBeUndefined();
    const body = upstream.body as Record<string, unknown>;
    // Nothing OpenAI-shaped leaks through.
    for (const key of ['model', 'messages', 'stream', 'max_tokens', 'tool_choice']) expect(body).not.toHaveProperty(key);

    switch (kind) {
      case 'basic':
        expect(request.messages[0]?.role).toBe('system');
        expect(body).toEqual({
          systemInstruction: { parts: [{ text: 'You are terse.' }] },
          contents: [
            { role: 'user', parts: [{ text: 'Say hello.' }] },
            { role: 'model', parts: [{ text: 'Hello.' }] },
            { role: 'user', parts: [{ text: 'Again, please.' }] },
          ],
          generationConfig: { temperature: 0.3, topP: 0.9, maxOutputTokens: 200, stopSequences: ['END'] },
        });
        break;
      case 'tools':
        expect(body).toEqual({
          contents: [WEATHER_QUESTION],
          tools: [
            {
              functionDeclarations: [
                {
                  name: 'get_weather',
                  description: 'Current weather for a city',
                  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
                },
              ],
            },
          ],
          toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
          generationConfig: { maxOutputTokens: 100 },
        });
        break;
      case 'tool-result':
        expect(body.contents).toEqual([
          WEATHER_QUESTION,
          { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
          { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 18, sky: 'clear' } } }] },
        ]);
        expect(body.tools).toEqual([
          { functionDeclarations: [{ name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }] },
        ]);
        expect(body.toolConfig).toBeUndefined();
        break;
      case 'image': {
        const part = request.messages[0]?.content;
        const url = Array.isArray(part) && part[1]?.type === 'image_url' ? part[1].image_url.url : '';
        expect(body.contents).toEqual([
          {
            role: 'user',
            parts: [{ text: 'What is in this picture?' }, { inlineData: { mimeType: 'image/png', data: url.slice('data:image/png;base64,'.length) } }],
          },
        ]);
        expect(body.generationConfig).toEqual({ maxOutputTokens: 50 });
        break;
      }
    }
  },
};
