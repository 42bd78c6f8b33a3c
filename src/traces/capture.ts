/**
 * The capture policy: which payloads a trace keeps. `full` keeps the request and the
 * answer, `metadata` keeps neither, `redacted` keeps them with sensitive values masked
 * by regex (built-in patterns for emails, card numbers, phone numbers, US SSNs, IP
 * addresses and API keys, plus any from config). Payloads are serialized here, once, and
 * cut to `max_payload_bytes` with a marker saying so.
 */
import type { TracesConfig } from '../config/schema.js';
import type { CapturePolicy } from '../store/types.js';

export interface RedactionPattern {
  name: string;
  regex: RegExp;
}

/** Built-in redactions; placeholders name the type (`<EMAIL>`), never the value. */
export const BUILTIN_REDACTIONS: readonly RedactionPattern[] = [
  { name: 'PRIVATE_KEY', regex: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g },
  { name: 'API_KEY', regex: /\b(?:sk-[A-Za-z0-9_-]{16,}|sk-ant-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35})\b/g },
  { name: 'JWT', regex: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g },
  { name: 'EMAIL', regex: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g },
  { name: 'CREDIT_CARD', regex: /\b(?:\d[ -]?){12,18}\d\b/g },
  { name: 'US_SSN', regex: /\b\d{3}-\d{2}-\d{4}\b/g },
  { name: 'IP_ADDRESS', regex: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g },
  { name: 'PHONE', regex: /(?<![\w+])\+?\d{1,3}[ .-]?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}\b/g },
];

export class CaptureSettings {
  private readonly patterns: RedactionPattern[];

  constructor(private readonly cfg: TracesConfig['capture']) {
    this.patterns = [...cfg.redact.map((r) => ({ name: r.name.toUpperCase(), regex: new RegExp(r.pattern, 'g') })), ...BUILTIN_REDACTIONS];
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

  /** Masks every pattern in a string. */
  redactText(text: string): string {
    let out = text;
    for (const p of this.patterns) out = out.replace(p.regex, `<${p.name}>`);
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
