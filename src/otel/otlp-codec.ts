/**
 * OTLP/HTTP trace payloads in both encodings: decoding an ExportTraceServiceRequest
 * (protobuf via protobufjs, or OTLP/JSON) into plain spans for ingest, and encoding spans
 * for export. Both encodings share one shape (lowerCamelCase fields); the differences
 * OTLP/JSON makes (hex trace/span ids, 64-bit integers as strings or numbers, enums as
 * integers) are handled here and nowhere else. Spec: https://opentelemetry.io/docs/specs/otlp/
 */
import { z } from 'zod';
import { otlpTraceTypes } from './otlp-schema.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';

export type OtlpEncoding = 'protobuf' | 'json';

/** An attribute value as a plain JS value (OTLP AnyValue; bytes become base64 text). */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface DecodedEvent {
  name: string;
  timeUnixNano: bigint;
  attributes: Attributes;
}

export interface DecodedSpan {
  /** Lowercase hex; '' when absent. Validity (length, not all zero) is the caller's to judge. */
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: DecodedEvent[];
  status: { code: number; message: string };
}

export interface DecodedScopeSpans {
  scope: { name: string; version: string };
  spans: DecodedSpan[];
}

export interface DecodedResourceSpans {
  resource: Attributes;
  scopeSpans: DecodedScopeSpans[];
}

/** The body is not a valid ExportTraceServiceRequest; `message` says where and why. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

// ---------------------------------------------------------------------------------------
// Decoding. Protobuf is decoded by protobufjs and turned into a plain object (64-bit
// integers as decimal strings, bytes as Uint8Array); JSON is parsed as is. One zod schema
// then checks both, so an error names the bad field the same way for either encoding.

const Int64 = z.union([z.string().regex(/^-?\d+$/, 'expected an integer'), z.number().int()]);
const Bytes = z.union([z.string(), z.instanceof(Uint8Array)]);
const Enum = z.union([z.number().int(), z.string()]);

interface RawAnyValue {
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  intValue?: string | number | undefined;
  doubleValue?: number | string | undefined;
  arrayValue?: { values?: RawAnyValue[] | undefined } | undefined;
  kvlistValue?: { values?: RawKeyValue[] | undefined } | undefined;
  bytesValue?: string | Uint8Array | undefined;
}
interface RawKeyValue {
  key: string;
  value?: RawAnyValue | undefined;
}

const AnyValueSchema: z.ZodType<RawAnyValue> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: Int64.optional(),
    // proto3 JSON allows "NaN", "Infinity" and "-Infinity" as strings.
    doubleValue: z.union([z.number(), z.string()]).optional(),
    arrayValue: z.object({ values: z.array(AnyValueSchema).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(KeyValueSchema).optional() }).optional(),
    bytesValue: Bytes.optional(),
  }),
);
const KeyValueSchema: z.ZodType<RawKeyValue> = z.lazy(() => z.object({ key: z.string(), value: AnyValueSchema.optional() }));
const AttributesSchema = z.array(KeyValueSchema).optional();

const SpanSchema = z.object({
  traceId: Bytes.optional(),
  spanId: Bytes.optional(),
  parentSpanId: Bytes.optional(),
  name: z.string().optional(),
  kind: Enum.optional(),
  startTimeUnixNano: Int64.optional(),
  endTimeUnixNano: Int64.optional(),
  attributes: AttributesSchema,
  events: z
    .array(z.object({ timeUnixNano: Int64.optional(), name: z.string().optional(), attributes: AttributesSchema }))
    .optional(),
  status: z.object({ code: Enum.optional(), message: z.string().optional() }).optional(),
});

const RequestSchema = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes: AttributesSchema }).optional(),
        scopeSpans: z
          .array(
            z.object({
              scope: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
              spans: z.array(SpanSchema).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});
type RawRequest = z.infer<typeof RequestSchema>;

const SPAN_KINDS: Record<string, number> = {
  SPAN_KIND_UNSPECIFIED: 0,
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};
const STATUS_CODES: Record<string, number> = { STATUS_CODE_UNSET: 0, STATUS_CODE_OK: 1, STATUS_CODE_ERROR: 2 };

function enumValue(v: number | string | undefined, names: Record<string, number>): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return names[v] ?? 0;
}

const HEX = /^[\da-f]*$/i;

/** Ids: raw bytes (protobuf) or hex text (OTLP/JSON); base64 text is accepted too, as some senders use proto3's default. */
function idHex(v: string | Uint8Array | undefined): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex');
  if (HEX.test(v) && (v.length === 32 || v.length === 16 || v.length === 0)) return v.toLowerCase();
  const bytes = Buffer.from(v, 'base64');
  return bytes.length === 16 || bytes.length === 8 ? bytes.toString('hex') : v.toLowerCase();
}

function nanos(v: string | number | undefined): bigint {
  if (v === undefined) return 0n;
  return typeof v === 'number' ? BigInt(Math.trunc(v)) : BigInt(v);
}

function anyValue(v: RawAnyValue | undefined): AttributeValue {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return attributes(v.kvlistValue.values);
  if (v.bytesValue !== undefined) {
    const b = v.bytesValue;
    return typeof b === 'string' ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  }
  return null;
}

function attributes(kvs: RawKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

function normalize(req: RawRequest): DecodedResourceSpans[] {
  return (req.resourceSpans ?? []).map((rs) => ({
    resource: attributes(rs.resource?.attributes),
    scopeSpans: (rs.scopeSpans ?? []).map((ss) => ({
      scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
      spans: (ss.spans ?? []).map(
        (s): DecodedSpan => ({
          traceId: idHex(s.traceId),
          spanId: idHex(s.spanId),
          parentSpanId: idHex(s.parentSpanId),
          name: s.name ?? '',
          kind: enumValue(s.kind, SPAN_KINDS),
          startTimeUnixNano: nanos(s.startTimeUnixNano),
          endTimeUnixNano: nanos(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name ?? '', timeUnixNano: nanos(e.timeUnixNano), attributes: attributes(e.attributes) })),
          status: { code: enumValue(s.status?.code, STATUS_CODES), message: s.status?.message ?? '' },
        }),
      ),
    })),
  }));
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Decodes an ExportTraceServiceRequest body (already decompressed).
 * @throws {OtlpDecodeError} when the body is not one.
 * @example
 * const resourceSpans = decodeTraceRequest(body, 'protobuf');
 */
export function decodeTraceRequest(body: Uint8Array, encoding: OtlpEncoding): DecodedResourceSpans[] {
  let raw: unknown;
  if (encoding === 'protobuf') {
    try {
      const { ExportTraceServiceRequest } = otlpTraceTypes();
      const msg = ExportTraceServiceRequest.decode(body);
      raw = ExportTraceServiceRequest.toObject(msg, { longs: String, enums: Number, defaults: false, arrays: false });
    } catch (err) {
      throw new OtlpDecodeError(`not a valid protobuf ExportTraceServiceRequest: ${(err as Error).message}`, { cause: err });
    }
  } else {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new OtlpDecodeError(`not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  // Attribute values nest (arrays and key-value lists of values): one nested a few thousand
  // levels deep overflowed the validator's recursion (a 500). Real attributes are flat.
  if (nestsDeeperThan(raw)) throw new OtlpDecodeError(`nested more than ${MAX_JSON_DEPTH} levels deep`);
  const parsed = RequestSchema.safeParse(raw);
  if (!parsed.success) throw new OtlpDecodeError(`not a valid ExportTraceServiceRequest: ${describeIssues(parsed.error)}`);
  try {
    return normalize(parsed.data);
  } catch (err) {
    throw new OtlpDecodeError(`not a valid ExportTraceServiceRequest: ${(err as Error).message}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------
// Encoding, for export and for ingest responses.

/** An attribute value with its OTLP type made explicit (ints and doubles differ on the wire). */
export type OtlpValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: number }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpValue[] } };

export interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}

export interface OtlpSpan {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpKeyValue[];
  events: { name: string; timeUnixNano: bigint; attributes: OtlpKeyValue[] }[];
  status: { code: number; message: string };
}

export interface OtlpExport {
  resource: OtlpKeyValue[];
  scope: { name: string; version: string };
  spans: OtlpSpan[];
}

function toWire(req: OtlpExport, encoding: OtlpEncoding): Record<string, unknown> {
  const id = (hex: string): string | Buffer => (encoding === 'json' ? hex : Buffer.from(hex, 'hex'));
  const value = (v: OtlpValue): Record<string, unknown> => {
    // OTLP/JSON carries int64 as a decimal string (proto3 JSON mapping).
    if ('intValue' in v) return { intValue: encoding === 'json' ? String(v.intValue) : v.intValue };
    if ('arrayValue' in v) return { arrayValue: { values: v.arrayValue.values.map(value) } };
    return v;
  };
  const kvs = (list: OtlpKeyValue[]) => list.map((kv) => ({ key: kv.key, value: value(kv.value) }));
  return {
    resourceSpans: [
      {
        resource: { attributes: kvs(req.resource) },
        scopeSpans: [
          {
            scope: req.scope,
            spans: req.spans.map((s) => ({
              traceId: id(s.traceId),
              spanId: id(s.spanId),
              ...(s.parentSpanId ? { parentSpanId: id(s.parentSpanId) } : {}),
              name: s.name,
              kind: s.kind,
              startTimeUnixNano: s.startTimeUnixNano.toString(),
              endTimeUnixNano: s.endTimeUnixNano.toString(),
              attributes: kvs(s.attributes),
              events: s.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano.toString(), attributes: kvs(e.attributes) })),
              status: s.status.message ? s.status : { code: s.status.code },
            })),
          },
        ],
      },
    ],
  };
}

/**
 * Encodes spans as an ExportTraceServiceRequest body.
 * @example
 * const body = encodeTraceRequest({ resource, scope: { name: 'llmops', version: '1' }, spans }, 'protobuf');
 */
export function encodeTraceRequest(req: OtlpExport, encoding: OtlpEncoding): Buffer {
  const wire = toWire(req, encoding);
  if (encoding === 'json') return Buffer.from(JSON.stringify(wire));
  const { ExportTraceServiceRequest } = otlpTraceTypes();
  const msg = ExportTraceServiceRequest.fromObject(wire);
  return Buffer.from(ExportTraceServiceRequest.encode(msg).finish());
}

/** The ExportTraceServiceResponse body: empty on full success, with `partial_success` when some spans were rejected. */
export function encodeTraceResponse(rejected: number, message: string, encoding: OtlpEncoding): Buffer {
  const partial = rejected > 0 ? { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } } : {};
  if (encoding === 'json') return Buffer.from(JSON.stringify(partial));
  const { ExportTraceServiceResponse } = otlpTraceTypes();
  return Buffer.from(ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(partial)).finish());
}

/** Decodes an ExportTraceServiceResponse (the exporter reads partial successes from it). */
export function decodeTraceResponse(body: Uint8Array, encoding: OtlpEncoding): { rejectedSpans: number; errorMessage: string } {
  let raw: unknown;
  if (encoding === 'json') {
    const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').trim();
    raw = text === '' ? {} : JSON.parse(text);
  } else {
    const { ExportTraceServiceResponse } = otlpTraceTypes();
    raw = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(body), { longs: String, defaults: false });
  }
  const parsed = z
    .object({ partialSuccess: z.object({ rejectedSpans: Int64.optional(), errorMessage: z.string().optional() }).optional() })
    .safeParse(raw);
  const p = parsed.success ? parsed.data.partialSuccess : undefined;
  return { rejectedSpans: Number(p?.rejectedSpans ?? 0), errorMessage: p?.errorMessage ?? '' };
}
