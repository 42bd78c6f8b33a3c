/**
 * The capture policy: which payloads a trace keeps. `full` keeps the request and the
 * answer, `metadata` keeps neither, `redacted` keeps them with PII and secrets masked by
 * the guardrails' detectors (see `guards/pii`, `guards/secrets`), plus any patterns from
 * config. Payloads are serialized here, once, and cut to `max_payload_bytes` with a marker
 * saying so.
 */
import type { TracesConfig } from '../config/schema.js';
import { PiiDetector } from '../guards/pii/index.js';
import { SecretsDetector } from '../guards/secrets/index.js';
import type { EntityDetector, EntitySpan } from '../guards/types.js';
import type { CapturePolicy } from '../store/types.js';

export interface RedactionPattern {
  name: string;
  regex: RegExp;
}


export class CaptureSettings {
  private patterns: RedactionPattern[];
  /** The guardrails' PII and secrets detectors, built on the first redaction. */
  private detectors: EntityDetector[] | undefined;

  constructor(private cfg: TracesConfig['capture']) {
    this.patterns = cfg.redact.map((r) => ({ name: r.name.toUpperCase(), regex: new RegExp(r.pattern, 'g') }));
  }

  /** Takes over `next`'s policy and patterns (a config reload). */
  replaceWith(next: CaptureSettings): void {
    this.cfg = next.cfg;
    this.patterns = next.patterns;
  }

  /** The policy for a call: by key (name or id) first, then by model, then the default. */
  policyFor(key: { name: string; id: string | null } | undefined, model: string | null): CapturePolicy {
    if (key) {
      const byKey = this.cfg.by_key[key.name] ?? (key.id === null ? undefined : this.cfg.by_key[key.id]);
      if (byKey) return byKey;
    }
    if (model !== null) {
      const byModel = this.cfg.by_model[model];
      if (byModel) return byModel;
    }
    return this.cfg.default;
  }

  /**
   * Masks PII and secrets (the guardrails' detectors: emails, phone numbers, cards, IBANs,
   * SSNs, IPs, dates of birth, names, addresses, API keys, tokens, private keys) and the
   * configured patterns with typed placeholders such as `<EMAIL_ADDRESS>`.
   */
  redactText(text: string): string {
    let out = text;
    for (const p of this.patterns) out = out.replace(p.regex, `<${p.name}>`);
    this.detectors ??= [new SecretsDetector(), new PiiDetector()];
    for (const d of this.detectors) out = replaceSpans(out, d.detect(out));
    return out;
  }

  /**
   * The payload as stored: JSON text (or null under `metadata`), redacted under
   * `redacted`, and cut to the size limit as `{"truncated":true,...}` when too large.
   * `json`, when given, is the payload already serialized (used as is under `full`).
   */
  serialize(policy: CapturePolicy, payload: unknown, json?: string): string | null {
    if (policy === 'metadata' || payload === undefined || payload === null) return null;
    if (policy === 'redacted') json = JSON.stringify(this.redactDeep(payload));
    else json ??= JSON.stringify(payload);
    if (json.length <= this.cfg.max_payload_bytes) return json;
    return JSON.stringify({ truncated: true, bytes: json.length, preview: json.slice(0, Math.max(0, this.cfg.max_payload_bytes - 100)) });
  }

  private redactDeep(v: unknown): unknown {
    if (typeof v === 'string') return this.redactText(v);
    if (Array.isArray(v)) return v.map((x) => this.redactDeep(x));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.redactDeep(x);
      return out;
    }
    return v;
  }
}

/** Replaces each span (sorted, non-overlapping) with `<TYPE>`. */
function replaceSpans(text: string, spans: readonly EntitySpan[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    out += `${text.slice(at, s.start)}<${s.type}>`;
    at = s.end;
  }
  return out + text.slice(at);
}
