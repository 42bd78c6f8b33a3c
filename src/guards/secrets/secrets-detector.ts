/**
 * The secrets detector: provider key formats (OpenAI, Anthropic, AWS, GitHub, Slack,
 * Stripe, Google), JWTs, PEM private key blocks and generic high-entropy tokens. Pure and
 * synchronous; known formats score 0.8-1, a high-entropy token 0.55, raised by a nearby
 * "key", "token", "secret" or "password".
 */
import { contextWords, filterSpans, hasContext, resolveOverlaps } from '../entity-spans.js';
import type { EntityDetector, EntitySpan } from '../types.js';
import { looksRandom } from './entropy.js';
import { SECRET_PATTERNS, SECRET_TYPES } from './secret-patterns.js';

const TOKEN_RE = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{20,}={0,2}(?![A-Za-z0-9+/=_-])/g;
const SECRET_CONTEXT = contextWords(['key', 'keys', 'token', 'tokens', 'secret', 'secrets', 'password', 'passwd', 'pwd', 'pass', 'api', 'apikey', 'api_key', 'auth', 'authorization', 'bearer', 'credential', 'credentials', 'private', 'signature', 'session']);

export const DEFAULT_SECRETS_MIN_SCORE = 0.5;

/**
 * @example
 * new SecretsDetector().detect('export OPENAI_API_KEY=sk-proj-...');
 * // [{ type: 'OPENAI_KEY', start: 22, end: ..., score: 0.98 }]
 */
export class SecretsDetector implements EntityDetector {
  readonly types: readonly string[] = SECRET_TYPES;

  constructor(private readonly opts: { minScore?: number; highEntropy?: boolean } = {}) {}

  detect(text: string, opts?: { types?: readonly string[]; minScore?: number }): EntitySpan[] {
    if (text.length < 16) return [];
    const want = (t: string): boolean => !opts?.types || opts.types.includes(t);
    const spans: EntitySpan[] = [];
    let lower: string | undefined;
    for (const p of SECRET_PATTERNS) {
      if (!want(p.type)) continue;
      if (p.requires) {
        lower ??= text.toLowerCase();
        if (!p.requires.test(lower)) continue;
      }
      for (const m of text.matchAll(p.regex)) {
        if (p.requires && !p.requires.test(lower!.slice(Math.max(0, m.index - 64), m.index))) continue;
        spans.push({ type: p.type, start: m.index, end: m.index + m[0].length, score: p.score });
      }
    }
    if (this.opts.highEntropy !== false && want('HIGH_ENTROPY')) {
      for (const m of text.matchAll(TOKEN_RE)) {
        const start = m.index;
        const end = start + m[0].length;
        if (spans.some((s) => start < s.end && s.start < end)) continue;
        // Inline data (data:image/png;base64,...) is content, not a credential.
        if (text.slice(Math.max(0, start - 7), start) === 'base64,') continue;
        if (!looksRandom(m[0].replace(/=+$/, ''))) continue;
        lower ??= text.toLowerCase();
        spans.push({ type: 'HIGH_ENTROPY', start, end, score: hasContext(lower, start, end, SECRET_CONTEXT, 40, 0) ? 0.85 : 0.55 });
      }
    }
    return resolveOverlaps(filterSpans(spans, opts, this.opts.minScore ?? DEFAULT_SECRETS_MIN_SCORE));
  }
}
