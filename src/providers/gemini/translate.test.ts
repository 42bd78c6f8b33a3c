import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../../canonical.js';
import { LlmopsError } from '../../errors.js';
import { countTokens } from '../../token-counter.js';
import {
  completeEmbeddings,
  durationMs,
  finishReason,
  fromGeminiEmbedResponse,
  fromGeminiResponse,
  geminiError,
  geminiModelName,
  geminiUsage,
  guessMimeType,
  signatureFromToolCallId,
  toGeminiEmbedRequest,
  toGeminiRequest,
} from './translate.js';

function req(over: Partial<ChatRequest>): ChatRequest {
  return { model: 'm', messages: [{ role: 'user', content: 'hi' }], ...over };
}

function thrown(fn: () => unknown): LlmopsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LlmopsError);
    return err as LlmopsError;
  }
  throw new Error('expected a throw');
}

describe('toGeminiRequest: messages', () => {
  it('puts system and developer messages in systemInstruction and merges consecutive same-role turns', () => {
    const body = toGeminiRequest(
      req({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'developer', content: [{ type: 'text', text: 'Use metric units.' }] },
          { role: 'user', content: 'One.' },
          { role: 'user', content: [{ type: 'text', text: 'Two.' }] },
          { role: 'assistant', content: 'Ok.' },
          { role: 'assistant', content: '' },
          { role: 'user', content: 'Three.' },
        ],
      }),
    );
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be brief.' }, { text: 'Use metric units.' }] });
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'One.' }, { text: 'Two.' }] },
      { role: 'model', parts: [{ text: 'Ok.' }] },
      { role: 'user', parts: [{ text: 'Three.' }] },
    ]);
    expect(body.generationConfig).toBeUndefined();
    expect(body.tools).toBeUndefined();
  });

  it('sends tool calls as functionCall parts and tool results as functionResponse parts in one user turn', () => {
    const body = toGeminiRequest(
      req({
        messages: [
          { role: 'user', content: 'Weather in Paris and Oslo?' },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'a1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'a2', type: 'function', function: { name: 'get_time', arguments: '' } },
            ],
          },
          { role: 'tool', tool_call_id: 'a1', content: '{"temp_c":18}' },
          { role: 'tool', tool_call_id: 'a2', content: 'It is noon.' },
          { role: 'tool', tool_call_id: 'a1', content: '[1,2]' },
        ],
      }),
    );
    expect(body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Paris and Oslo?' }] },
      {
        role: 'model',
        parts: [{ text: 'Checking.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp_c: 18 } } },
          { functionResponse: { name: 'get_time', response: { content: 'It is noon.' } } },
          { functionResponse: { name: 'get_weather', response: { content: '[1,2]' } } },
        ],
      },
    ]);
  });

  it('rejects a tool result whose call id is unknown, and arguments that are not a JSON object', () => {
    const unknown = thrown(() => toGeminiRequest(req({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] })));
    expect(unknown.code).toBe('invalid_request');
    expect(unknown.param).toBe('messages[0].tool_call_id');
    const badArgs = thrown(() =>
      toGeminiRequest(
        req({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'x', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] }),
      ),
    );
    expect(badArgs.param).toBe('messages[0].tool_calls[0].function.arguments');
  });

  it('sends a thought signature carried in a tool call id back on its functionCall part', () => {
    const id = 'call_abc__thought__c2lnbmF0dXJl';
    expect(signatureFromToolCallId(id)).toBe('c2lnbmF0dXJl');
    expect(signatureFromToolCallId('call_abc')).toBeUndefined();
    const body = toGeminiRequest(
      req({
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: id, content: 'ok' },
        ],
      }),
    );
    expect(body.contents[1]?.parts).toEqual([{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'c2lnbmF0dXJl' }]);
    expect(body.contents[2]?.parts).toEqual([{ functionResponse: { name: 'f', response: { content: 'ok' } } }]);
  });

  it('maps images (data: and http URLs), audio and PDF files to inlineData/fileData parts', () => {
    const body = toGeminiRequest(
      req({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'image_url', image_url: { url: 'data:image/webp;base64,UklGRg==' } },
              { type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } },
              { type: 'image_url', image_url: { url: 'https://example.com/cat.PNG?size=large' } },
              { type: 'image_url', image_url: { url: 'https://example.com/photo' } },
              { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } } as never,
              { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=', filename: 'a.pdf' } } as never,
            ],
          },
        ],
      }),
    );
    expect(body.contents[0]?.parts).toEqual([
      { inlineData: { mimeType: 'image/webp', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') } },
      { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.PNG?size=large' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photo' } },
      { inlineData: { mimeType: 'audio/wav', data: 'UklGRg==' } },
      { inlineData: { mimeType: 'application/pdf', data: 'JVBERi0=' } },
    ]);
    expect(guessMimeType('https://x.test/a/b.jpeg')).toBe('image/jpeg');
    expect(guessMimeType('https://x.test/doc.pdf#page=2')).toBe('application/pdf');
  });

  it('rejects content parts Gemini cannot take as sent', () => {
    const ftp = thrown(() => toGeminiRequest(req({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/y.png' } }] }] })));
    expect(ftp.code).toBe('unsupported_parameter');
    expect(ftp.param).toBe('messages[0].content[0]');
    const fileId = thrown(() => toGeminiRequest(req({ messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-1' } } as never] }] })));
    expect(fileId.message).toContain("'file'");
  });
});

describe('toGeminiRequest: tools and generation settings', () => {
  const tool = (name: string, parameters?: Record<string, unknown>) => ({ type: 'function' as const, function: { name, ...(parameters ? { parameters } : {}) } });

  it('declares functions with Gemini-safe schemas and leaves out empty parameter objects', () => {
    const body = toGeminiRequest(
      req({
        tools: [
          {
            type: 'function',
            function: {
              name: 'lookup',
              description: 'Look up',
              strict: true,
              parameters: { type: 'object', properties: { q: { type: 'string', format: 'uri' } }, required: ['q'], additionalProperties: false },
            },
          },
          tool('now', { type: 'object', properties: {} }),
          tool('ping'),
        ],
      }),
    );
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          { name: 'lookup', description: 'Look up', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } },
          { name: 'now' },
          { name: 'ping' },
        ],
      },
    ]);
    expect(body.toolConfig).toBeUndefined();
  });

  it('maps tool_choice to functionCallingConfig', () => {
    const tools = [tool('f'), tool('g')];
    expect(toGeminiRequest(req({ tools, tool_choice: 'auto' })).toolConfig).toEqual({ functionCallingConfig: { mode: 'AUTO' } });
    expect(toGeminiRequest(req({ tools, tool_choice: 'none' })).toolConfig).toEqual({ functionCallingConfig: { mode: 'NONE' } });
    expect(toGeminiRequest(req({ tools, tool_choice: 'required' })).toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(toGeminiRequest(req({ tools, tool_choice: { type: 'function', function: { name: 'g' } } })).toolConfig).toEqual({
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['g'] },
    });
  });

  it('fills generationConfig from the sampling fields; max_completion_tokens wins over max_tokens', () => {
    const body = toGeminiRequest(
      req({
        temperature: 0,
        top_p: 0.5,
        max_tokens: 10,
        max_completion_tokens: 99,
        stop: 'STOP',
        seed: 42,
        n: 2,
        presence_penalty: 0.1,
        frequency_penalty: -0.2,
      }),
    );
    expect(body.generationConfig).toEqual({
      temperature: 0,
      topP: 0.5,
      maxOutputTokens: 99,
      stopSequences: ['STOP'],
      seed: 42,
      candidateCount: 2,
      presencePenalty: 0.1,
      frequencyPenalty: -0.2,
    });
  });

  it('maps response_format to responseMimeType and responseSchema', () => {
    expect(toGeminiRequest(req({ response_format: { type: 'text' } })).generationConfig).toBeUndefined();
    expect(toGeminiRequest(req({ response_format: { type: 'json_object' } })).generationConfig).toEqual({ responseMimeType: 'application/json' });
    const body = toGeminiRequest(
      req({
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'answer',
            strict: true,
            schema: {
              type: 'object',
              properties: { reasoning: { type: 'string' }, answer: { type: ['number', 'null'] } },
              required: ['reasoning', 'answer'],
              additionalProperties: false,
            },
          },
        },
      }),
    );
    expect(body.generationConfig).toEqual({
      responseMimeType: 'application/json',
      responseSchema: {
        type: 'object',
        properties: { reasoning: { type: 'string' }, answer: { type: 'number', nullable: true } },
        required: ['reasoning', 'answer'],
        propertyOrdering: ['reasoning', 'answer'],
      },
    });
  });
});

describe('fromGeminiResponse', () => {
  it('joins text parts, skips thoughts, and takes id, model and usage from the answer', () => {
    const r = fromGeminiResponse(
      {
        candidates: [
          {
            content: { role: 'model', parts: [{ text: 'Let me think', thought: true }, { text: 'Hello, ' }, { text: 'world.' }] },
            finishReason: 'STOP',
            index: 0,
          },
        ],
        usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 20, thoughtsTokenCount: 30, cachedContentTokenCount: 64, totalTokenCount: 150 },
        modelVersion: 'gemini-2.5-flash-001',
        responseId: 'resp-1',
      },
      'gemini-2.5-flash',
      'gemini',
    );
    expect(r.response).toMatchObject({
      id: 'resp-1',
      object: 'chat.completion',
      model: 'gemini-2.5-flash-001',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, world.' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 30 } },
    });
    expect(r.response.choices[0]?.message.tool_calls).toBeUndefined();
    expect(r.usage).toEqual({ inputTokens: 100, outputTokens: 50, cachedInputTokens: 64, cacheWriteTokens: 0, reasoningTokens: 30, estimated: false });
  });

  it('turns functionCall parts into tool calls with stable generated ids, unless Gemini sent an id', () => {
    const body = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [
              { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'c2ln+/8=' },
              { functionCall: { name: 'get_weather', args: { city: 'Oslo' } } },
              { functionCall: { id: 'fc-7', name: 'get_time' } },
            ],
          },
          finishReason: 'STOP',
        },
      ],
      responseId: 'resp-2',
    };
    const a = fromGeminiResponse(body, 'm', 'gemini').response.choices[0]!;
    const b = fromGeminiResponse(body, 'm', 'gemini').response.choices[0]!;
    expect(a.finish_reason).toBe('tool_calls');
    expect(a.message.content).toBeNull();
    const calls = a.message.tool_calls!;
    expect(calls.map((c) => c.function)).toEqual([
      { name: 'get_weather', arguments: '{"city":"Paris"}' },
      { name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { name: 'get_time', arguments: '{}' },
    ]);
    expect(calls[0]!.id).toMatch(/^call_[0-9a-f]{24}__thought__c2ln-_8$/);
    expect(calls[1]!.id).toMatch(/^call_[0-9a-f]{24}$/);
    expect(calls[1]!.id).not.toBe(calls[0]!.id.split('__')[0]);
    expect(calls[2]!.id).toBe('fc-7');
    // The same answer gives the same ids; the signature round-trips to Gemini's bytes.
    expect(b.message.tool_calls!.map((c) => c.id)).toEqual(calls.map((c) => c.id));
    expect(Buffer.from(signatureFromToolCallId(calls[0]!.id)!, 'base64url').toString('base64')).toBe('c2ln+/8=');
  });

  it('maps each candidate to a choice (n > 1)', () => {
    const r = fromGeminiResponse(
      {
        candidates: [
          { content: { parts: [{ text: 'A' }] }, finishReason: 'STOP', index: 0 },
          { content: { parts: [{ text: 'B' }] }, finishReason: 'MAX_TOKENS', index: 1 },
        ],
      },
      'm',
      'gemini',
    );
    expect(r.response.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toEqual([
      [0, 'A', 'stop'],
      [1, 'B', 'length'],
    ]);
    expect(r.usage).toBeUndefined();
    expect(r.response.usage).toBeUndefined();
  });

  it('answers a blocked prompt with content_filter and a refusal, keeping the usage', () => {
    const r = fromGeminiResponse(
      { promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 } },
      'm',
      'gemini',
    );
    expect(r.response.choices).toEqual([
      { index: 0, message: { role: 'assistant', content: null, refusal: 'Gemini blocked the prompt (PROHIBITED_CONTENT).' }, finish_reason: 'content_filter' },
    ]);
    expect(r.usage).toMatchObject({ inputTokens: 9, outputTokens: 0 });
  });

  it('fails on an answer with neither candidates nor a block reason', () => {
    expect(thrown(() => fromGeminiResponse({ usageMetadata: {} }, 'm', 'gemini')).code).toBe('upstream_bad_response');
    expect(thrown(() => fromGeminiResponse('nope', 'm', 'gemini')).code).toBe('upstream_bad_response');
  });

  it('maps finish reasons', () => {
    expect(finishReason('STOP', false)).toBe('stop');
    expect(finishReason('STOP', true)).toBe('tool_calls');
    expect(finishReason('MAX_TOKENS', true)).toBe('length');
    for (const r of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) expect(finishReason(r, false)).toBe('content_filter');
    expect(finishReason('MALFORMED_FUNCTION_CALL', false)).toBe('stop');
    expect(finishReason('OTHER', false)).toBe('stop');
    expect(finishReason(undefined, false)).toBeNull();
    expect(finishReason('FINISH_REASON_UNSPECIFIED', false)).toBeNull();
  });

  it('counts tool-use prompt tokens as input', () => {
    expect(geminiUsage({ promptTokenCount: 10, toolUsePromptTokenCount: 5, candidatesTokenCount: 3 })).toMatchObject({ inputTokens: 15, outputTokens: 3 });
    expect(geminiUsage(undefined)).toBeUndefined();
  });
});

describe('geminiError', () => {
  const body = (e: Record<string, unknown>) => JSON.stringify({ error: e });

  it('uses RetryInfo.retryDelay as Retry-After when no header is present, and the header when it is', () => {
    const text = body({
      code: 429,
      message: 'Resource has been exhausted (e.g. check quota).',
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' }],
    });
    const noHeader = geminiError('gemini', 429, text, {});
    expect(noHeader.code).toBe('upstream_rate_limited');
    expect(noHeader.retryAfterMs).toBe(7000);
    expect(noHeader.message).toBe('gemini: Resource has been exhausted (e.g. check quota).');
    expect(geminiError('gemini', 429, text, { 'retry-after': '2' }).retryAfterMs).toBe(2000);
    expect(durationMs('0.25s')).toBe(250);
    expect(durationMs('soon')).toBeUndefined();
  });

  it("recognises Gemini's token-limit wording as context_length_exceeded", () => {
    const err = geminiError(
      'gemini',
      400,
      body({ code: 400, message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' }),
      {},
    );
    expect(err.code).toBe('context_length_exceeded');
    expect(err.upstreamStatus).toBe(400);
  });

  it("treats Google's HTTP 400 for a bad API key as an upstream auth error", () => {
    const err = geminiError(
      'gemini',
      400,
      body({
        code: 400,
        message: 'API key not valid. Please pass a valid API key.',
        status: 'INVALID_ARGUMENT',
        details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' }],
      }),
      {},
    );
    expect(err.code).toBe('upstream_auth_error');
    expect(err.status).toBe(502);
    expect(err.message).toContain('API key not valid');
  });

  it('reads array-wrapped error bodies and keeps non-JSON text', () => {
    const arr = geminiError('gemini', 503, JSON.stringify([{ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }]), {});
    expect(arr.code).toBe('upstream_overloaded');
    expect(arr.message).toBe('gemini: The model is overloaded.');
    const html = geminiError('gemini', 502, '<html>Bad Gateway</html>', {});
    expect(html.code).toBe('upstream_error');
    expect(html.message).toContain('<html>Bad Gateway</html>');
  });

  it('keeps a plain 400 as upstream_invalid_request with its status', () => {
    const err = geminiError('gemini', 400, body({ code: 400, message: 'Invalid value at generation_config.temperature', status: 'INVALID_ARGUMENT' }), {});
    expect(err.code).toBe('upstream_invalid_request');
    expect(err.status).toBe(400);
  });
});

describe('embeddings', () => {
  it('builds a batchEmbedContents body with one request per input', () => {
    expect(geminiModelName('text-embedding-004')).toBe('models/text-embedding-004');
    expect(geminiModelName('models/x')).toBe('models/x');
    expect(geminiModelName('tunedModels/my-tune')).toBe('tunedModels/my-tune');
    expect(toGeminiEmbedRequest({ model: 'e', input: ['a', 'b'], dimensions: 256 }, 'gemini-embedding-001')).toEqual({
      requests: [
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'a' }] }, outputDimensionality: 256 },
        { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'b' }] }, outputDimensionality: 256 },
      ],
    });
    expect(toGeminiEmbedRequest({ model: 'e', input: 'solo' }, 'e').requests).toHaveLength(1);
    expect(thrown(() => toGeminiEmbedRequest({ model: 'e', input: [1, 2, 3] }, 'e')).code).toBe('unsupported_parameter');
  });

  it('returns floats or base64 float32 as asked, with usage counted by the tokenizer', () => {
    const raw = fromGeminiEmbedResponse({ embeddings: [{ values: [0.5, -1] }, { values: [0.25, 2] }] }, 'gemini-embedding-001', 'gemini');
    const floats = completeEmbeddings(raw, { model: 'e', input: ['hello world', 'bye'] });
    expect(floats.response.data).toEqual([
      { object: 'embedding', index: 0, embedding: [0.5, -1] },
      { object: 'embedding', index: 1, embedding: [0.25, 2] },
    ]);
    const tokens = countTokens('hello world') + countTokens('bye');
    expect(floats.response.usage).toEqual({ prompt_tokens: tokens, total_tokens: tokens });
    expect(floats.usage).toMatchObject({ inputTokens: tokens, outputTokens: 0, estimated: true });
    const b64 = completeEmbeddings(raw, { model: 'e', input: ['hello world', 'bye'], encoding_format: 'base64' });
    const decoded = new Float32Array(Uint8Array.from(Buffer.from(b64.response.data[1]!.embedding as string, 'base64')).buffer);
    expect([...decoded]).toEqual([0.25, 2]);
    expect(thrown(() => fromGeminiEmbedResponse({ embedding: {} }, 'e', 'gemini')).code).toBe('upstream_bad_response');
  });
});
