/**
 * Input guards, compiled once from config: each looks at the request's message texts and
 * says pass, flag, mask (with the rewritten texts) or block. Built-in types: `injection`,
 * `pii`, `secrets` (the detectors in `guards/injection`, `guards/pii`, `guards/secrets`),
 * `max_tokens`, `deny` (words and regexes) and `topics` (an allow-list by keyword sets).
 */
import type { ChatRequest } from '../../canonical.js';
import { countChatInputTokens } from '../../token-counter.js';
import type { EntityDetector, EntitySpan, InjectionDetector } from '../types.js';
import { countTypes, type Verdict } from './decision.js';
import type { GuardAction, InputGuardConfig } from './schema.js';
import { maskSpans, type MaskVault } from '../mask.js';

/** One piece of text in the request: a message's string content or one of its text parts. */
export interface TextSlot {
  message: number;
  /** Index of the text part, or -1 for string content. */
  part: number;
  role: string;
  text: string;
}

export interface InputFinding {
  verdict: Exclude<Verdict, 'retry' | 'fallback'>;
  score: number | null;
  masked?: Record<string, number>;
  detail?: string;
  /** For `mask`: slot index → new text. */
  rewrites?: Map<number, string>;
}

export interface InputGuard {
  readonly name: string;
  readonly action: GuardAction;
  /** Whether the guard also checks `/v1/embeddings` inputs. */
  readonly embeddings: boolean;
  /** `vault` is absent where masks need not be reversible (embeddings inputs): they become `[TYPE]`. */
  check(slots: readonly TextSlot[], req: ChatRequest, vault?: () => MaskVault): InputFinding;
}

export interface GuardDetectors {
  pii?: EntityDetector | undefined;
  secrets?: EntityDetector | undefined;
  injection?: InjectionDetector | undefined;
}

const PASS: InputFinding = { verdict: 'pass', score: null };

/** The request's texts, in order (images and tool-call arguments are not scanned). */
export function textSlots(req: ChatRequest): TextSlot[] {
  const out: TextSlot[] = [];
  req.messages.forEach((m, i) => {
    if (typeof m.content === 'string') out.push({ message: i, part: -1, role: m.role, text: m.content });
    else if (Array.isArray(m.content)) m.content.forEach((p, j) => p.type === 'text' && out.push({ message: i, part: j, role: m.role, text: p.text }));
  });
  return out;
}

/** The request with some slots' texts replaced (messages copied, the rest shared). */
export function rewriteRequest(req: ChatRequest, slots: readonly TextSlot[], rewrites: ReadonlyMap<number, string>): ChatRequest {
  const messages = req.messages.slice();
  for (const [i, text] of rewrites) {
    const s = slots[i]!;
    const m = messages[s.message]!;
    if (s.part < 0) messages[s.message] = { ...m, content: text };
    else {
      const parts = (m.content as NonNullable<Exclude<typeof m.content, string>>).slice();
      parts[s.part] = { type: 'text', text };
      messages[s.message] = { ...m, content: parts };
    }
  }
  return { ...req, messages };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `\b` that also works next to non-word characters at the ends of a phrase. */
function wordPattern(w: string): string {
  const body = escapeRegex(w.trim()).replace(/\s+/g, '\\s+');
  return `(?<![\\p{L}\\p{N}_])${body}(?![\\p{L}\\p{N}_])`;
}

function entityGuard(name: 'pii' | 'secrets', det: EntityDetector | undefined, g: Extract<InputGuardConfig, { type: 'pii' | 'secrets' }>): InputGuard {
  if (!det) throw new Error(`guardrails: the '${name}' guard needs the ${name} detector (src/guards/${name}), which is not available`);
  const opts = { ...(g.types ? { types: g.types } : {}), ...(g.threshold !== undefined ? { minScore: g.threshold } : {}) };
  const reversible = g.type === 'pii' && g.reversible;
  return {
    name,
    action: g.action,
    embeddings: true,
    check(slots, _req, vault) {
      const found: string[] = [];
      let rewrites: Map<number, string> | undefined;
      slots.forEach((s, i) => {
        const spans = det.detect(s.text, opts);
        if (spans.length === 0) return;
        for (const sp of spans) found.push(sp.type);
        if (g.action === 'mask') (rewrites ??= new Map()).set(i, maskSpans(s.text, spans, reversible && vault ? vault() : undefined));
      });
      if (found.length === 0) return PASS;
      const masked = countTypes(found);
      const verdict = g.action === 'mask' ? 'mask' : g.action === 'block' ? 'block' : 'flag';
      return { verdict, score: null, masked, detail: `found ${Object.keys(masked).join(', ')}`, ...(rewrites ? { rewrites } : {}) };
    },
  };
}

export function compileInputGuard(g: InputGuardConfig, detectors: GuardDetectors): InputGuard {
  switch (g.type) {
    case 'pii':
      return entityGuard('pii', detectors.pii, g);
    case 'secrets':
      return entityGuard('secrets', detectors.secrets, g);
    case 'injection': {
      const det = detectors.injection;
      if (!det) throw new Error("guardrails: the 'injection' guard needs the injection detector (src/guards/injection), which is not available");
      const threshold = g.threshold ?? (g.action === 'block' ? det.blockThreshold : det.threshold);
      if (threshold === undefined) throw new Error("guardrails: the 'injection' guard needs a threshold (this detector has no default)");
      return {
        name: 'injection',
        action: g.action,
        embeddings: g.embeddings,
        check(slots) {
          let best = 0;
          let signals: string[] = [];
          // The system prompt is the application's own: only what users and tools said is scored.
          for (const s of slots) {
            if (s.role === 'system' || s.role === 'developer' || s.role === 'assistant') continue;
            const r = det.score(s.text);
            if (r.score > best) {
              best = r.score;
              signals = r.signals;
            }
          }
          const score = Math.round(best * 1000) / 1000;
          if (best < threshold) return { verdict: 'pass', score };
          return { verdict: g.action, score, detail: signals.length ? `signals: ${signals.join(', ')}` : `score ${score} >= ${threshold}` };
        },
      };
    }
    case 'max_tokens':
      return {
        name: 'max_tokens',
        action: g.action,
        embeddings: true,
        check(slots, req) {
          // A token is at least one UTF-8 byte: short requests pass without tokenizing.
          let bytes = 0;
          for (const s of slots) bytes += Buffer.byteLength(s.text);
          if (bytes + 64 <= g.max && !req.tools?.length) return PASS;
          const n = countChatInputTokens(req);
          if (n <= g.max) return { verdict: 'pass', score: null };
          return { verdict: g.action, score: null, detail: `${n} input tokens > ${g.max}` };
        },
      };
    case 'deny': {
      const sources = [...g.words.map(wordPattern), ...g.patterns.map((p) => `(?:${p})`)];
      if (sources.length === 0) throw new Error("guardrails: a 'deny' guard needs words or patterns");
      const re = new RegExp(sources.join('|'), 'giu');
      const name = g.name ?? 'deny';
      return {
        name,
        action: g.action,
        embeddings: true,
        check(slots) {
          let hits = 0;
          let rewrites: Map<number, string> | undefined;
          slots.forEach((s, i) => {
            re.lastIndex = 0;
            if (!re.test(s.text)) return;
            re.lastIndex = 0;
            const spans: EntitySpan[] = [];
            for (const m of s.text.matchAll(re)) if (m[0].length > 0) spans.push({ type: 'DENIED', start: m.index, end: m.index + m[0].length, score: 1 });
            hits += spans.length;
            if (g.action === 'mask') (rewrites ??= new Map()).set(i, maskSpans(s.text, spans));
          });
          if (hits === 0) return PASS;
          return { verdict: g.action, score: null, masked: { DENIED: hits }, detail: `${hits} denied term(s)`, ...(rewrites ? { rewrites } : {}) };
        },
      };
    }
    case 'topics': {
      const topics = Object.entries(g.allow).map(([topic, words]) => ({ topic, res: words.map((w) => new RegExp(wordPattern(w), 'iu')) }));
      return {
        name: 'topics',
        action: g.action,
        embeddings: false,
        check(slots) {
          const text = slots
            .filter((s) => s.role === 'user')
            .map((s) => s.text)
            .join('\n');
          let best = 0;
          for (const t of topics) {
            const n = t.res.reduce((k, re) => k + (re.test(text) ? 1 : 0), 0);
            if (n >= g.min_matches) return { verdict: 'pass', score: null, detail: `topic ${t.topic}` };
            best = Math.max(best, n);
          }
          return { verdict: g.action, score: null, detail: `off-topic (allowed: ${topics.map((t) => t.topic).join(', ')})` };
        },
      };
    }
  }
}
