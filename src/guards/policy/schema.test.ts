import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultInjectionDetector } from '../injection/detector.js';
import { loadModel } from '../injection/model.js';
import { compileInputGuard } from './input-guards.js';
import { GuardrailsSchema, InputGuardSchema } from './schema.js';

describe('guardrails schema', () => {
  it('accepts the commented example in llmops.example.yaml', () => {
    const text = readFileSync(new URL('../../../llmops.example.yaml', import.meta.url), 'utf8');
    const block = text.slice(text.indexOf('# guardrails:'), text.indexOf('# --- end of guardrails'));
    const yaml = block
      .split('\n')
      .map((l) => (l.startsWith('# ') ? l.slice(2) : l.slice(1)))
      .join('\n');
    const doc = parse(yaml) as { guardrails: unknown };
    const g = GuardrailsSchema.parse(doc.guardrails);
    expect(Object.keys(g.policies)).toEqual(['standard', 'support']);
    expect(g.review.sample_rate).toBe(0.05);
  });

  it('fills defaults and names the bad key', () => {
    const g = GuardrailsSchema.parse({ policies: { p: { input: [{ type: 'pii' }], output: [{ type: 'json' }] } } });
    expect(g.policies.p!.input[0]).toMatchObject({ action: 'mask', reversible: true });
    expect(g.policies.p!.output[0]).toMatchObject({ action: 'retry' });
    expect(g.policies.p!.stream).toBe('buffer');
    expect(() => GuardrailsSchema.parse({ policies: { p: { input: [{ type: 'injection', action: 'retry' }] } } })).toThrow();
    expect(() => GuardrailsSchema.parse({ policies: {}, by_model: { m: 'missing' } })).toThrow(/no policy named 'missing'/);
  });

  it("defaults the injection threshold to the model's: its blocking one (≤1% FPR out of fold) for block, its balanced one for flag", () => {
    const model = loadModel();
    expect(model.blockThreshold).toBeGreaterThan(model.threshold);
    const det = { score: () => ({ score: (model.threshold + model.blockThreshold) / 2, signals: [] }), threshold: model.threshold, blockThreshold: model.blockThreshold };
    const slots = [{ message: 0, part: -1, role: 'user', text: 'x' }];
    const req = { model: 'm', messages: [{ role: 'user' as const, content: 'x' }] };
    const block = compileInputGuard(InputGuardSchema.parse({ type: 'injection' }), { injection: det });
    const flag = compileInputGuard(InputGuardSchema.parse({ type: 'injection', action: 'flag' }), { injection: det });
    const set = compileInputGuard(InputGuardSchema.parse({ type: 'injection', threshold: 0.01 }), { injection: det });
    expect(block.check(slots, req, () => undefined as never).verdict).toBe('pass');
    expect(flag.check(slots, req, () => undefined as never).verdict).toBe('flag');
    expect(set.check(slots, req, () => undefined as never).verdict).toBe('block');
    expect(defaultInjectionDetector().blockThreshold).toBe(model.blockThreshold);
  });
});
