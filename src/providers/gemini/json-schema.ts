/**
 * JSON Schema (as OpenAI clients send it for tool parameters and `json_schema` response
 * formats) → Gemini's `Schema` object, an OpenAPI 3.0 subset that rejects unknown keys
 * with HTTP 400 ("Invalid JSON payload received. Unknown name ...").
 *
 * Kept: type, format (only `enum` and `date-time` on strings), title, description, nullable,
 * enum (strings only), items, properties, required (only listed properties), anyOf,
 * min/maxItems, min/maxProperties, min/maxLength, pattern, minimum, maximum, default,
 * example, propertyOrdering.
 * Rewritten: `$ref` to `#/$defs/…` or `#/definitions/…` is inlined; `type: [T, "null"]`
 * and `anyOf: [X, {type: "null"}]` become `nullable: true`; `oneOf` becomes `anyOf`;
 * `allOf` is merged; `const` becomes a one-value `enum`; non-string enums are dropped and
 * listed in the description instead.
 * Dropped (Gemini rejects them): everything else, notably `additionalProperties`,
 * `$schema`, `$id`, `$defs`, `strict`, `examples`, `exclusiveMinimum`/`exclusiveMaximum`,
 * `multipleOf`, `uniqueItems`, `patternProperties`, `not`, `if`/`then`/`else`.
 */
import { LlmopsError } from '../../errors.js';

type Json = Record<string, unknown>;

const COPIED = new Set([
  'title',
  'description',
  'nullable',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'minimum',
  'maximum',
  'default',
  'example',
  'propertyOrdering',
]);

/**
 * The `format` values the Gemini Developer API accepts, per type; others are a 400 ("only
 * 'enum' and 'date-time' are supported for STRING type"). Numeric formats (int32, double…)
 * are dropped too: Google's SDK docs list only these two, and they change no output.
 */
const FORMATS: Record<string, readonly string[]> = {
  string: ['enum', 'date-time'],
};

export interface GeminiSchemaOptions {
  /** Add `propertyOrdering` from the key order (Gemini otherwise orders output keys alphabetically). */
  propertyOrdering?: boolean;
  /** The request field named in errors. */
  param?: string;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNullSchema(v: unknown): boolean {
  return isObject(v) && v.type === 'null' && Object.keys(v).every((k) => k === 'type' || k === 'description' || k === 'title');
}

class Converter {
  private readonly expanding: string[] = [];

  constructor(
    private readonly root: Json,
    private readonly opts: GeminiSchemaOptions,
  ) {}

  convert(node: unknown): Json {
    if (!isObject(node)) return {};
    if (typeof node.$ref === 'string') return this.ref(node.$ref, node);
    let src: Json = node;
    if (Array.isArray(src.allOf)) src = this.mergeAllOf(src);

    const out: Json = {};
    for (const [k, v] of Object.entries(src)) if (COPIED.has(k)) out[k] = v;

    // type: a string, or a list that may include "null".
    if (Array.isArray(src.type)) {
      const types = src.type.filter((t): t is string => typeof t === 'string');
      const nonNull = types.filter((t) => t !== 'null');
      if (nonNull.length < types.length) out.nullable = true;
      if (nonNull.length === 1) out.type = nonNull[0];
      else if (nonNull.length > 1) out.anyOf = nonNull.map((t) => this.convert({ ...src, type: t, anyOf: undefined, oneOf: undefined }));
    } else if (typeof src.type === 'string') {
      out.type = src.type;
    }

    const type = typeof out.type === 'string' ? out.type : undefined;
    if (typeof src.format === 'string' && type && FORMATS[type]?.includes(src.format)) out.format = src.format;

    if ('const' in src && src.enum === undefined) this.setEnum(out, [src.const], type);
    else if (Array.isArray(src.enum)) this.setEnum(out, src.enum, type);

    if (isObject(src.properties)) {
      const props: Json = {};
      for (const [name, sub] of Object.entries(src.properties)) props[name] = this.convert(sub);
      out.properties = props;
      if (Array.isArray(src.required)) {
        const required = src.required.filter((r): r is string => typeof r === 'string' && r in props);
        if (required.length > 0) out.required = required;
      }
      if (this.opts.propertyOrdering && out.propertyOrdering === undefined && Object.keys(props).length > 1) {
        out.propertyOrdering = Object.keys(props);
      }
    }
    if (isObject(src.items)) out.items = this.convert(src.items);
    else if (Array.isArray(src.items) && src.items.length > 0) out.items = this.convert(src.items[0]);

    const union = Array.isArray(src.anyOf) ? src.anyOf : Array.isArray(src.oneOf) ? src.oneOf : undefined;
    if (union && out.anyOf === undefined) this.setUnion(out, union);
    return out;
  }

  private setEnum(out: Json, values: unknown[], type: string | undefined): void {
    const nonNull = values.filter((v) => v !== null);
    if (nonNull.length < values.length) out.nullable = true;
    if (nonNull.length === 0) return;
    if (nonNull.every((v) => typeof v === 'string')) {
      out.enum = nonNull;
      out.type ??= 'string';
      return;
    }
    // Gemini's enum holds strings only: say the allowed values in words instead.
    const allowed = `Allowed values: ${nonNull.map((v) => JSON.stringify(v)).join(', ')}.`;
    out.description = typeof out.description === 'string' && out.description ? `${out.description} ${allowed}` : allowed;
    if (type === undefined && nonNull.every((v) => typeof v === 'number')) {
      out.type = nonNull.every((v) => Number.isInteger(v)) ? 'integer' : 'number';
    }
  }

  private setUnion(out: Json, union: unknown[]): void {
    const branches = union.filter((b) => !isNullSchema(b));
    if (branches.length < union.length) out.nullable = true;
    if (branches.length === 1) {
      // `anyOf: [X, null]`: X itself, nullable (what pydantic emits for Optional[X]).
      const only = this.convert(branches[0]);
      for (const [k, v] of Object.entries(only)) if (out[k] === undefined) out[k] = v;
    } else if (branches.length > 1) {
      out.anyOf = branches.map((b) => this.convert(b));
    }
  }

  private mergeAllOf(node: Json): Json {
    const merged: Json = { ...node };
    delete merged.allOf;
    for (const part of node.allOf as unknown[]) {
      const resolved = isObject(part) && typeof part.$ref === 'string' ? this.lookup(part.$ref) : part;
      if (!isObject(resolved)) continue;
      for (const [k, v] of Object.entries(resolved)) {
        if (k === 'properties' && isObject(v)) merged.properties = { ...(isObject(merged.properties) ? merged.properties : {}), ...v };
        else if (k === 'required' && Array.isArray(v)) merged.required = [...(Array.isArray(merged.required) ? merged.required : []), ...v];
        else if (merged[k] === undefined) merged[k] = v;
      }
    }
    return merged;
  }

  private lookup(ref: string): unknown {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
    const defs = m ? this.root[m[1]!] : undefined;
    const name = m?.[2]?.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!m || !isObject(defs) || name === undefined || !(name in defs)) {
      throw new LlmopsError('unsupported_parameter', `JSON schema reference '${ref}' cannot be resolved (only local #/$defs/… and #/definitions/… references are)`, {
        param: this.opts.param ?? null,
      });
    }
    return defs[name];
  }

  private ref(ref: string, node: Json): Json {
    if (this.expanding.includes(ref)) {
      throw new LlmopsError('unsupported_parameter', `JSON schema reference '${ref}' is recursive; Gemini schemas cannot express recursion`, {
        param: this.opts.param ?? null,
      });
    }
    this.expanding.push(ref);
    try {
      const target = this.convert(this.lookup(ref));
      // Siblings of $ref (e.g. a description) refine the referenced schema.
      const siblings = this.convert({ ...node, $ref: undefined });
      return { ...target, ...siblings };
    } finally {
      this.expanding.pop();
    }
  }
}

/**
 * Converts a JSON Schema to the subset Gemini accepts.
 *
 * @example
 * toGeminiSchema({ type: 'object', properties: { a: { type: ['string', 'null'] } }, additionalProperties: false })
 * // → { type: 'object', properties: { a: { type: 'string', nullable: true } } }
 */
export function toGeminiSchema(schema: Record<string, unknown>, opts: GeminiSchemaOptions = {}): Record<string, unknown> {
  return new Converter(schema, opts).convert(schema);
}
