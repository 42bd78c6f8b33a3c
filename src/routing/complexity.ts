/**
 * A cheap local complexity scorer for the `complexity` routing strategy: a few regex and
 * length features of the latest user turn plus the conversation's shape, combined into a
 * score in [0, 1]. Pure and fast (no tokenizer, no model): microseconds per request.
 *
 * Features: length (estimated tokens), reasoning cues ("step by step", "prove", "analyze",
 * "why", ...), code cues (fences, language keywords, stack traces), multi-step asks
 * (numbered lists, "then", "and also", several questions), conversation depth, tool use.
 * Weights are set by hand, not fitted; `test/data/complexity.jsonl` measures them.
 */
import { contentText, type ChatMessage, type ToolDefinition } from '../canonical.js';

export interface ComplexityFeatures {
  /** Estimated tokens of the latest user turn (characters / 4). */
  tokens: number;
  reasoning: number;
  code: number;
  steps: number;
  /** Messages before the latest user turn, system messages aside. */
  depth: number;
  /** Tool definitions offered (1 when any) plus tool results already in the conversation (1 when any). */
  tools: number;
}

export interface ComplexityScore {
  /** 0 (trivial) .. 1 (hard), rounded to 3 decimals. */
  score: number;
  features: ComplexityFeatures;
}

const WEIGHTS = { length: 0.25, reasoning: 0.35, code: 0.35, steps: 0.25, depth: 0.1, tools: 0.1 } as const;

/**
 * Asks that need working something out rather than recall: reasoning verbs and asks to build
 * something (implement, write a function). `why` counts half: "why is the sky blue" is recall.
 */
const REASONING =
  /\b(step[- ]by[- ]step|prove|proof|derive|derivation|analy[sz]e|analysis|trade-?offs?|evaluate|assess|justify|reason(ing)?|implications?|compare|contrast|design|architect(ure)?|diagnose|investigate|optimi[sz]e|critically|nuanced|weigh|argue|estimate|correctness|complexity|why does|why do|how would you|what would happen|pros and cons|implement|refactor|debug|review|solve|plan (a|an|the)|write (a|an) [\w -]{0,40}?(function|script|program|class|implementation|parser|service|query|deployment|test))\b/gi;
const WHY = /\bwhy\b/gi;

/** Strong code cues: a fenced block, a stack trace, an exception line. */
const CODE_STRONG = [
  /```/g,
  /Traceback \(most recent call last\)/g,
  /^\s+at [\w$.<>]+\s*\(?[\w./\\-]+:\d+(:\d+)?\)?/gm,
  /\b\w+(Error|Exception)\b(:|\s+in\b)/g,
];
/** Weak code cues: keywords and syntax that read as code, named languages and tools, systems vocabulary. */
const CODE_WEAK =
  /(\b(def|class|function|const|let|var|import|return|public|static|void|async|await|fn|impl|struct|interface|SELECT|INSERT|UPDATE|DELETE|JOIN|WHERE)\b|[{};]\s*$|=>|\w+\(\)|\b(python|javascript|typescript|java|rust|golang|go code|sql|bash|regex|kubernetes|docker|react|node|postgres(ql)?|redis|api|algorithm|o\(n( log n|\^2)?\)|database|schema|latency|throughput|concurrency|thread|lock-free|atomic|cache|index|shard|deployment|migration|jwt|encryption|security)\b)/gim;

/** Numbered or bulleted list items (line starts). */
const LIST_ITEM = /^\s*(\d+[.)]|[-*•])\s+\S/gm;
const STEP_WORDS = /\b(then|after that|and also|also|finally|additionally|as well as|for each|each one|next,)\b/gi;

function count(re: RegExp, text: string): number {
  re.lastIndex = 0;
  let n = 0;
  while (re.exec(text) !== null) n++;
  return n;
}

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

/**
 * Scores a chat request's complexity.
 *
 * @example
 * scoreComplexity({ messages: [{ role: 'user', content: 'hi' }] }).score; // → 0
 * scoreComplexity({ messages: [{ role: 'user', content: 'Prove there are infinitely many primes, step by step.' }] }).score; // → ≥ 0.3
 */
export function scoreComplexity(req: { messages: readonly ChatMessage[]; tools?: readonly ToolDefinition[] | undefined }): ComplexityScore {
  const msgs = req.messages;
  let last = -1;
  for (let i = msgs.length - 1; i >= 0; i--) {
    if (msgs[i]!.role === 'user') {
      last = i;
      break;
    }
  }
  const text = last >= 0 ? contentText(msgs[last]!.content) : '';
  let depth = 0;
  let toolResults = false;
  for (let i = 0; i < msgs.length; i++) {
    const role = msgs[i]!.role;
    if (role === 'tool') toolResults = true;
    if (i < last && role !== 'system' && role !== 'developer') depth++;
  }

  let strong = 0;
  for (const re of CODE_STRONG) strong += count(re, text);
  const features: ComplexityFeatures = {
    tokens: Math.ceil(text.length / 4),
    reasoning: count(REASONING, text) + count(WHY, text) * 0.5,
    code: strong * 2 + count(CODE_WEAK, text) * 0.5,
    steps: 0,
    depth,
    tools: (req.tools?.length ? 1 : 0) + (toolResults ? 1 : 0),
  };
  const items = count(LIST_ITEM, text);
  const questions = count(/\?/g, text);
  features.steps = (items >= 2 ? items : 0) + count(STEP_WORDS, text) + (questions > 1 ? questions - 1 : 0);

  // Length: nothing below 16 tokens, full weight from 1024 tokens, logarithmic in between.
  const length = clamp01(Math.log2(Math.max(features.tokens, 1) / 16) / 6);
  const score =
    WEIGHTS.length * length +
    WEIGHTS.reasoning * clamp01(features.reasoning / 1.5) +
    WEIGHTS.code * clamp01(features.code / 3) +
    WEIGHTS.steps * clamp01(features.steps / 3) +
    WEIGHTS.depth * clamp01(features.depth / 8) +
    WEIGHTS.tools * clamp01(features.tools / 2);
  return { score: Math.round(clamp01(score) * 1000) / 1000, features };
}
