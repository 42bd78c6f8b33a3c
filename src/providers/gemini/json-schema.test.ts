import { describe, expect, it } from 'vitest';
import { LlmopsError } from '../../errors.js';
import { toGeminiSchema } from './json-schema.js';

describe('toGeminiSchema', () => {
  it('drops the keys Gemini rejects, recursively, and keeps the ones it knows', () => {
    const out = toGeminiSchema({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      title: 'Order',
      strict: true,
      additionalProperties: false,
      properties: {
        qty: { type: 'integer', minimum: 1, maximum: 9, exclusiveMaximum: 10, multipleOf: 1 },
        tags: { type: 'array', items: { type: 'string', maxLength: 20, examples: ['x'] }, uniqueItems: true, minItems: 1 },
        meta: { type: 'object', properties: { note: { type: 'string', pattern: '^[a-z]+$' } }, additionalProperties: { type: 'string' } },
      },
      required: ['qty'],
    });
    expect(out).toEqual({
      type: 'object',
      title: 'Order',
      properties: {
        qty: { type: 'integer', minimum: 1, maximum: 9 },
        tags: { type: 'array', items: { type: 'string', maxLength: 20 }, minItems: 1 },
        meta: { type: 'object', properties: { note: { type: 'string', pattern: '^[a-z]+$' } } },
      },
      required: ['qty'],
    });
  });

  it('turns nullable unions into nullable: true, and oneOf into anyOf', () => {
    expect(toGeminiSchema({ type: ['string', 'null'], description: 'd' })).toEqual({ type: 'string', nullable: true, description: 'd' });
    expect(toGeminiSchema({ anyOf: [{ type: 'integer' }, { type: 'null' }], description: 'n' })).toEqual({
      type: 'integer',
      nullable: true,
      description: 'n',
    });
    expect(toGeminiSchema({ oneOf: [{ type: 'string' }, { type: 'number' }] })).toEqual({ anyOf: [{ type: 'string' }, { type: 'number' }] });
    expect(toGeminiSchema({ type: ['string', 'integer'] })).toEqual({ anyOf: [{ type: 'string' }, { type: 'integer' }] });
  });

  it('keeps only the formats Gemini accepts for the type', () => {
    expect(toGeminiSchema({ type: 'string', format: 'email' })).toEqual({ type: 'string' });
    expect(toGeminiSchema({ type: 'string', format: 'date-time' })).toEqual({ type: 'string', format: 'date-time' });
    expect(toGeminiSchema({ type: 'integer', format: 'int64' })).toEqual({ type: 'integer' });
    expect(toGeminiSchema({ type: 'number', format: 'int32' })).toEqual({ type: 'number' });
  });

  it('keeps string enums, turns const into an enum and non-string enums into words', () => {
    expect(toGeminiSchema({ type: 'string', enum: ['c', 'f'] })).toEqual({ type: 'string', enum: ['c', 'f'] });
    expect(toGeminiSchema({ const: 'fixed' })).toEqual({ type: 'string', enum: ['fixed'] });
    expect(toGeminiSchema({ enum: [1, 2, 3], description: 'Level.' })).toEqual({ type: 'integer', description: 'Level. Allowed values: 1, 2, 3.' });
    expect(toGeminiSchema({ type: 'string', enum: ['a', null] })).toEqual({ type: 'string', nullable: true, enum: ['a'] });
    expect(toGeminiSchema({ type: 'integer', enum: [2, null] })).toEqual({ type: 'integer', nullable: true, description: 'Allowed values: 2.' });
  });

  it('inlines local $refs (pydantic/zod style $defs and definitions) with their siblings', () => {
    const out = toGeminiSchema({
      type: 'object',
      properties: {
        home: { $ref: '#/$defs/Address', description: 'Where they live' },
        work: { $ref: '#/definitions/Address' },
      },
      $defs: { Address: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } },
      definitions: { Address: { type: 'object', properties: { street: { type: 'string' } } } },
    });
    expect(out).toEqual({
      type: 'object',
      properties: {
        home: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], description: 'Where they live' },
        work: { type: 'object', properties: { street: { type: 'string' } } },
      },
    });
  });

  it('refuses recursive and unresolvable $refs with an error naming the reference', () => {
    const recursive = {
      type: 'object',
      properties: { node: { $ref: '#/$defs/Node' } },
      $defs: { Node: { type: 'object', properties: { children: { type: 'array', items: { $ref: '#/$defs/Node' } } } } },
    };
    expect(() => toGeminiSchema(recursive, { param: 'tools' })).toThrow(/'#\/\$defs\/Node' is recursive/);
    try {
      toGeminiSchema({ $ref: 'https://example.com/schema.json' }, { param: 'response_format' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LlmopsError);
      expect((err as LlmopsError).code).toBe('unsupported_parameter');
      expect((err as LlmopsError).param).toBe('response_format');
    }
  });

  it('merges allOf and keeps only required names that are properties', () => {
    expect(
      toGeminiSchema({
        allOf: [
          { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
          { properties: { b: { type: 'number' } }, required: ['b', 'ghost'] },
        ],
      }),
    ).toEqual({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'number' } }, required: ['a', 'b'] });
  });

  it('adds propertyOrdering from the key order when asked (response schemas)', () => {
    const schema = { type: 'object', properties: { reasoning: { type: 'string' }, answer: { type: 'string' } } };
    expect(toGeminiSchema(schema, { propertyOrdering: true })).toEqual({ ...schema, propertyOrdering: ['reasoning', 'answer'] });
    expect(toGeminiSchema(schema)).toEqual(schema);
  });
});
