import { describe, expect, it } from 'vitest';
import { TracesSchema } from '../config/schema.js';
import { PriceTable } from '../pricing/price-table.js';
import { CaptureSettings } from '../traces/capture.js';
import type { Attributes, DecodedSpan } from './otlp-codec.js';
import { spanToRecord, type SpanRecordDeps } from './span-record.js';

const deps = (policy: 'full' | 'metadata' | 'redacted' = 'full'): SpanRecordDeps => ({
  prices: new PriceTable({ 'gpt-4o': { input: 2.5, cached_input: 1.25, output: 10 } }),
  capture: new CaptureSettings(TracesSchema.parse({ capture: { default: policy } }).capture),
});
const caller = { keyId: 'key_1', keyName: 'app' };

function span(attributes: Attributes, extra: Partial<DecodedSpan> = {}): DecodedSpan {
  return {
    traceId: 'ab'.repeat(16),
    spanId: 'cd'.repeat(8),
    parentSpanId: '',
    name: 'op',
    kind: 1,
    startTimeUnixNano: 1_700_000_000_000_000_000n,
    endTimeUnixNano: 1_700_000_000_500_000_000n,
    attributes,
    events: [],
    status: { code: 0, message: '' },
    ...extra,
  };
}

function rec(s: DecodedSpan, d = deps(), resource: Attributes = {}) {
  const r = spanToRecord(s, resource, 'scope', caller, d);
  if (!r.ok) throw new Error(r.reason);
  return r.record;
}

describe('spanToRecord', () => {
  it('decides llm vs span from gen_ai.operation.name, else from model/provider attributes', () => {
    expect(rec(span({ 'gen_ai.operation.name': 'chat' })).kind).toBe('llm');
    expect(rec(span({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.request.model': 'e' }))).toMatchObject({ kind: 'llm', endpoint: 'embeddings' });
    expect(rec(span({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 9 }))).toMatchObject({
      kind: 'span',
      endpoint: 'span',
      requested_model: null,
      input_tokens: null,
      cost_usd: null,
    });
    expect(rec(span({ 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o' }))).toMatchObject({ kind: 'llm', provider: 'openai' });
    expect(rec(span({ 'http.route': '/x' })).kind).toBe('span');
  });

  it('reads the older usage names and prices cache reads apart', () => {
    const r = rec(span({ 'gen_ai.request.model': 'gpt-4o', 'gen_ai.usage.prompt_tokens': 1000, 'gen_ai.usage.completion_tokens': 100, 'gen_ai.usage.cache_read.input_tokens': 200 }));
    expect(r.usage).toEqual({ input: 1000, output: 100, cached_input: 200, cache_write: 0, reasoning: 0 });
    expect(r.cost_usd).toBeCloseTo((800 * 2.5 + 200 * 1.25 + 100 * 10) / 1e6, 12);
    expect(r.cost_source).toBe('price_table');
  });

  it('takes error details from the status, error.type or the exception event; ttft from seconds', () => {
    const r = rec(
      span(
        { 'gen_ai.operation.name': 'chat', 'gen_ai.response.time_to_first_chunk': 0.25, 'http.response.status_code': 429 },
        {
          status: { code: 2, message: '' },
          events: [{ name: 'exception', timeUnixNano: 1n, attributes: { 'exception.type': 'RateLimitError', 'exception.message': 'slow down' } }],
        },
      ),
    );
    expect(r).toMatchObject({ status: 'error', error_code: 'RateLimitError', error_message: 'slow down', ttft_ms: 250, http_status: 429, latency_ms: 500 });
  });

  it('environment and tags come from the span, else from the resource', () => {
    const r = rec(span({ 'session.id': 's1' }), deps(), { 'deployment.environment': 'qa', 'user.id': 'u-res', 'llmops.feature': 'f' });
    expect(r).toMatchObject({ environment: 'qa', user_id: 'u-res', session_id: 's1', feature: 'f' });
  });

  it('under the metadata policy no message content is kept anywhere', () => {
    const r = rec(
      span(
        { 'gen_ai.operation.name': 'chat', 'gen_ai.input.messages': '[{"role":"user","content":"secret"}]', 'gen_ai.system_instructions': 'secret too', 'gen_ai.output.messages': 'secret answer' },
        { events: [{ name: 'gen_ai.user.message', timeUnixNano: 1n, attributes: { content: 'secret event' } }] },
      ),
      deps('metadata'),
    );
    expect(r.capture).toBe('metadata');
    expect(r.input_payload).toBeNull();
    expect(r.output_payload).toBeNull();
    expect(JSON.stringify(r)).not.toContain('secret');
  });

  it('rejects spans OTLP calls invalid', () => {
    const bad = (s: DecodedSpan) => spanToRecord(s, {}, '', caller, deps());
    expect(bad(span({}, { traceId: '00'.repeat(16) }))).toMatchObject({ ok: false, reason: expect.stringMatching(/trace id/) });
    expect(bad(span({}, { spanId: 'abc' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/span id/) });
    expect(bad(span({}, { parentSpanId: 'xyz' }))).toMatchObject({ ok: false, reason: expect.stringMatching(/parent/) });
    expect(bad(span({}, { endTimeUnixNano: 0n }))).toMatchObject({ ok: false, reason: expect.stringMatching(/time/) });
  });
});
