import { describe, expect, it } from 'vitest';
import { decodeTraceRequest, decodeTraceResponse, encodeTraceRequest, encodeTraceResponse, OtlpDecodeError, type OtlpExport } from './otlp-codec.js';

const sample: OtlpExport = {
  resource: [{ key: 'service.name', value: { stringValue: 'svc' } }],
  scope: { name: 'scope', version: '1.2' },
  spans: [
    {
      traceId: '0123456789abcdef0123456789abcdef',
      spanId: '0123456789abcdef',
      parentSpanId: 'fedcba9876543210',
      name: 'chat m',
      kind: 3,
      // Past 2^53: nanosecond times must survive exactly.
      startTimeUnixNano: 1_700_000_000_123_456_789n,
      endTimeUnixNano: 1_700_000_001_987_654_321n,
      attributes: [
        { key: 's', value: { stringValue: 'x' } },
        { key: 'i', value: { intValue: 42 } },
        { key: 'd', value: { doubleValue: 0.5 } },
        { key: 'b', value: { boolValue: false } },
        { key: 'a', value: { arrayValue: { values: [{ stringValue: 'stop' }, { intValue: 1 }] } } },
      ],
      events: [{ name: 'ev', timeUnixNano: 1_700_000_000_500_000_000n, attributes: [{ key: 'k', value: { stringValue: 'v' } }] }],
      status: { code: 2, message: 'boom' },
    },
  ],
};

describe('OTLP codec', () => {
  it.each(['protobuf', 'json'] as const)('round-trips an export request (%s)', (encoding) => {
    const [rs] = decodeTraceRequest(encodeTraceRequest(sample, encoding), encoding);
    expect(rs!.resource).toEqual({ 'service.name': 'svc' });
    expect(rs!.scopeSpans[0]!.scope).toEqual({ name: 'scope', version: '1.2' });
    expect(rs!.scopeSpans[0]!.spans[0]).toEqual({
      traceId: '0123456789abcdef0123456789abcdef',
      spanId: '0123456789abcdef',
      parentSpanId: 'fedcba9876543210',
      name: 'chat m',
      kind: 3,
      startTimeUnixNano: 1_700_000_000_123_456_789n,
      endTimeUnixNano: 1_700_000_001_987_654_321n,
      attributes: { s: 'x', i: 42, d: 0.5, b: false, a: ['stop', 1] },
      events: [{ name: 'ev', timeUnixNano: 1_700_000_000_500_000_000n, attributes: { k: 'v' } }],
      status: { code: 2, message: 'boom' },
    });
  });

  it('reads the OTLP/JSON variants senders use: numeric int64, enum names, kvlists, bytes, base64 ids', () => {
    const body = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: Buffer.from('0123456789abcdef0123456789abcdef', 'hex').toString('base64'),
                  spanId: 'ABCDEF0123456789',
                  kind: 'SPAN_KIND_SERVER',
                  startTimeUnixNano: 1000,
                  endTimeUnixNano: '2000',
                  attributes: [
                    { key: 'n', value: { intValue: 7 } },
                    { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { doubleValue: 'Infinity' } }] } } },
                    { key: 'raw', value: { bytesValue: 'AAE=' } },
                    { key: 'empty' },
                  ],
                  status: { code: 'STATUS_CODE_ERROR' },
                },
              ],
            },
          ],
        },
      ],
    });
    const span = decodeTraceRequest(Buffer.from(body), 'json')[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({
      traceId: '0123456789abcdef0123456789abcdef',
      spanId: 'abcdef0123456789',
      parentSpanId: '',
      kind: 2,
      startTimeUnixNano: 1000n,
      endTimeUnixNano: 2000n,
      status: { code: 2, message: '' },
    });
    expect(span.attributes).toEqual({ n: 7, kv: { x: Infinity }, raw: 'AAE=', empty: null });
  });

  it('an empty request is valid; garbage is an OtlpDecodeError saying where', () => {
    expect(decodeTraceRequest(Buffer.alloc(0), 'protobuf')).toEqual([]);
    expect(decodeTraceRequest(Buffer.from('{}'), 'json')).toEqual([]);
    expect(() => decodeTraceRequest(Buffer.from([0x0a, 0x05, 0x01]), 'protobuf')).toThrow(OtlpDecodeError);
    expect(() => decodeTraceRequest(Buffer.from('[1,2'), 'json')).toThrow(/not valid JSON/);
    expect(() => decodeTraceRequest(Buffer.from('{"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"soon"}]}]}]}'), 'json')).toThrow(
      /resourceSpans\.0\.scopeSpans\.0\.spans\.0\.startTimeUnixNano/,
    );
  });

  it.each(['protobuf', 'json'] as const)('encodes and decodes responses with partial success (%s)', (encoding) => {
    expect(decodeTraceResponse(encodeTraceResponse(0, '', encoding), encoding)).toEqual({ rejectedSpans: 0, errorMessage: '' });
    expect(decodeTraceResponse(encodeTraceResponse(3, '3 span(s) rejected', encoding), encoding)).toEqual({ rejectedSpans: 3, errorMessage: '3 span(s) rejected' });
  });
});
