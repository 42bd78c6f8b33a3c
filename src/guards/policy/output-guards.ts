/**
 * Output guards, compiled once from config: each judges the model's answer text. `pii` and
 * `secrets` find leaks (spans, so they can mask, also in flight); `toxicity` scores the
 * lexicon and rules of `guards/toxicity`; `json` validates the answer when the request's
 * `response_format` asks for JSON (Ajv for a JSON schema); `grounding` scores the answer
 * against the request's source documents (`guards/grounding`).
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { contentText, type ChatRequest } from '../../canonical.js';
import { scoreGrounding } from '../grounding/scorer.js';
import { scoreToxicity, toxicityDetector } from '../toxicity/scorer.js';
import type { EntitySpan } from '../types.js';
import { countTypes, type Verdict } from './decision.js';
import type { GuardDetectors } from './input-guards.js';
import type { GuardAction, OutputGuardConfig } from './schema.js';

export interface OutputFinding {
  verdict: Verdict;
  score: number | null;
  masked?: Record<string, number>;
  detail?: string;
  /** For `mask`: the spans to mask in the answer. */
  spans?: EntitySpan[];
}

export interface OutputInput {
  request: ChatRequest;
  metadata: Record<string, unknown> | null;
}

export interface OutputGuard {
  readonly name: string;
  readonly action: GuardAction;
  /** Leak guards (pii, secrets) also read tool calls' arguments. */
  readonly leaks?: boolean;
  /** Span guards (pii, secrets, toxicity) can scan a stream in flight. */
  spans?(text: string): EntitySpan[];
  /** Null when the guard does not apply to this call (no JSON asked for, no sources given). */
  check(answer: string, input: OutputInput): OutputFinding | null;
}

function fired(action: GuardAction): Verdict {
  return action;
}

function spanGuard(name: string, action: GuardAction, detect: (t: string) => EntitySpan[], score?: (t: string, spans: EntitySpan[]) => number): OutputGuard {
  return {
    name,
    action,
    spans: detect,
    check(answer) {
      const spans = detect(answer);
      const s = score ? score(answer, spans) : null;
      if (spans.length === 0) return { verdict: 'pass', score: s };
      const masked = countTypes(spans.map((x) => x.type));
      return { verdict: fired(action), score: s, masked, detail: `found ${Object.keys(masked).join(', ')}`, spans };
    },
  };
}

const ajv = new Ajv({ allErrors: true, strict: false });
/** Compiled schemas by their JSON text; requests usually repeat a few schemas. */
const validators = new Map<string, ValidateFunction>();

function validatorFor(schema: Record<string, unknown>): ValidateFunction | string {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    try {
      v = ajv.compile(schema);
    } catch (err) {
      return `the request's JSON schema does not compile: ${(err as Error).message}`;
    }
    if (validators.size >= 256) validators.delete(validators.keys().next().value!);
    validators.set(key, v);
  }
  return v;
}

/** Validation errors of `answer` against the request's response_format, or null when it conforms. */
export function jsonErrors(answer: string, req: ChatRequest): string | null | undefined {
  const rf = req.response_format;
  if (!rf || (rf.type !== 'json_object' && rf.type !== 'json_schema')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(answer.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (rf.type === 'json_object') return value !== null && typeof value === 'object' && !Array.isArray(value) ? null : 'expected a JSON object';
  const schema = rf.json_schema.schema;
  if (!schema) return null;
  const v = validatorFor(schema);
  if (typeof v === 'string') return null; // the caller's schema is broken: not the model's fault
  if (v(value)) return null;
  return (v.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ');
}

/** The source documents a request carries, where the policy says to look. */
export function sourcesOf(input: OutputInput, cfg: Extract<OutputGuardConfig, { type: 'grounding' }>['sources']): string[] {
  const out: string[] = [];
  const meta = input.metadata?.[cfg.metadata_key];
  if (Array.isArray(meta)) {
    for (const s of meta) {
      if (typeof s === 'string') out.push(s);
      else if (s && typeof s === 'object' && typeof (s as { text?: unknown }).text === 'string') out.push((s as { text: string }).text);
    }
  }
  if (cfg.message_roles.length || cfg.message_names.length) {
    for (const m of input.request.messages) {
      if ((cfg.message_roles as string[]).includes(m.role) || (m.name !== undefined && cfg.message_names.includes(m.name))) out.push(contentText(m.content ?? null));
    }
  }
  return out;
}

export function compileOutputGuard(g: OutputGuardConfig, detectors: GuardDetectors): OutputGuard {
  switch (g.type) {
    case 'pii':
    case 'secrets': {
      const det = detectors[g.type];
      if (!det) throw new Error(`guardrails: the output '${g.type}' guard needs the ${g.type} detector (src/guards/${g.type}), which is not available`);
      const opts = { ...(g.types ? { types: g.types } : {}), ...(g.threshold !== undefined ? { minScore: g.threshold } : {}) };
      return { ...spanGuard(g.type, g.action, (t) => det.detect(t, opts)), leaks: true };
    }
    case 'toxicity':
      return {
        ...spanGuard('toxicity', g.action, (t) => toxicityDetector.detect(t, { minScore: g.threshold })),
        check(answer) {
          const r = scoreToxicity(answer);
          if (r.score < g.threshold) return { verdict: 'pass', score: r.score };
          const spans = r.spans.filter((s) => s.score >= g.threshold);
          const masked = countTypes(spans.map((s) => s.type));
          return { verdict: fired(g.action), score: r.score, masked, detail: `severity ${r.severity}`, spans };
        },
      };
    case 'json':
      return {
        name: 'json',
        action: g.action,
        check(answer, input) {
          const errors = jsonErrors(answer, input.request);
          if (errors === undefined) return null;
          if (errors === null) return { verdict: 'pass', score: null };
          return { verdict: fired(g.action), score: null, detail: errors };
        },
      };
    case 'grounding':
      return {
        name: 'grounding',
        action: g.action,
        check(answer, input) {
          const sources = sourcesOf(input, g.sources);
          if (sources.length === 0) return null;
          const r = scoreGrounding(answer, sources, g.sentence_overlap);
          const detail = `${r.supported}/${r.sentences} sentences supported${r.badCitations.length ? `; citations to no source: ${r.badCitations.map((n) => `[${n}]`).join(' ')}` : ''}`;
          if (r.score >= g.threshold && r.badCitations.length === 0) return { verdict: 'pass', score: r.score, detail };
          return { verdict: fired(g.action), score: r.score, detail };
        },
      };
  }
}
