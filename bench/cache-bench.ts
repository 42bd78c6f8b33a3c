/**
 * `npm run bench:cache`: the semantic cache's lookup latency at scale. Fills one scope
 * (the worst case: every entry is a candidate) of a {@link SemanticIndex} with N synthetic
 * questions (100,000 by default) embedded by the built-in local embedder, then times
 * lookups — embed + search, as the cache stage does them — for near-duplicates of stored
 * questions (should hit) and for new questions (should miss). Prints p50/p99/max and the
 * hit rate of near-duplicates; `--strict` exits 2 when p99 is above 5 ms.
 *
 * Flags: --entries N, --queries N, --threshold T, --strict.
 */
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { LocalEmbedder } from '../src/cache/semantic/local-embedder.js';
import { SemanticIndex } from '../src/cache/semantic/semantic-index.js';

const { values } = parseArgs({
  options: {
    entries: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '4000' },
    threshold: { type: 'string', default: '0.95' },
    tables: { type: 'string' },
    bits: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
});
const N = Number(values.entries);
const Q = Number(values.queries);
const threshold = Number(values.threshold);

/** A deterministic PRNG so runs compare. */
let seed = 42;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const OPENERS = ['What is', 'How do I', 'Can you explain', 'Why does', 'When should I', 'Where can I find', 'Who invented', 'Is it possible to', 'Tell me about', 'Compare'];
const TOPICS = Array.from({ length: 3000 }, (_, i) => `topic${i.toString(36)}`);
const WORDS = ['the', 'a', 'my', 'your', 'kubernetes', 'python', 'invoice', 'refund', 'password', 'order', 'account', 'api', 'cache', 'latency', 'database', 'billing', 'shipping', 'error', 'login', 'export', 'report', 'team', 'plan', 'upgrade', 'delete', 'reset', 'configure', 'deploy', 'monitor', 'scale'];

function question(): string {
  const n = 4 + Math.floor(rnd() * 10);
  const parts = [pick(OPENERS)];
  for (let i = 0; i < n; i++) parts.push(rnd() < 0.3 ? pick(TOPICS) : pick(WORDS));
  return parts.join(' ') + '?';
}

/** A near-duplicate: case, punctuation and one small typo or dropped trailing mark. */
function nearDuplicate(q: string): string {
  let s = rnd() < 0.5 ? q.toLowerCase() : q;
  s = rnd() < 0.5 ? s.replace(/\?$/, '') : s.replace(/\?$/, ' ?');
  return s;
}

const embedder = new LocalEmbedder();
const index = new SemanticIndex({
  dimensions: embedder.dimensions,
  maxEntries: N,
  ...(values.tables ? { tables: Number(values.tables) } : {}),
  ...(values.bits ? { bits: Number(values.bits) } : {}),
});
const stored: string[] = [];
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const q = question();
  stored.push(q);
  index.add('scope', embedder.embed(q), `k${i}`, Date.now() + 3_600_000);
}
const fillMs = performance.now() - t0;

function time(texts: string[]): { lat: number[]; hits: number } {
  const lat: number[] = [];
  let hits = 0;
  for (const t of texts) {
    const s = performance.now();
    const m = index.search('scope', embedder.embed(t), threshold);
    lat.push(performance.now() - s);
    if (m) hits++;
  }
  return { lat, hits };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

// Warm up the JIT, then measure.
time(Array.from({ length: 500 }, () => question()));
const dup = time(Array.from({ length: Q / 2 }, () => nearDuplicate(pick(stored))));
const before = index.candidates;
const fresh = time(Array.from({ length: Q / 2 }, () => question()));
const perQuery = (index.candidates - before) / (Q / 2);
const all = [...dup.lat, ...fresh.lat];
const p99 = pct(all, 99);

const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
console.log(`semantic cache lookup (local embedder, ${embedder.dimensions} dims, threshold ${threshold}) — ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
console.log(`entries in one scope: ${index.size.toLocaleString('en-US')} (filled in ${(fillMs / 1000).toFixed(1)} s, ${((fillMs * 1000) / N).toFixed(1)} µs per add)`);
console.log(`lookups (embed + search): ${all.length}: p50 ${fmt(pct(all, 50))}, p99 ${fmt(p99)}, max ${fmt(Math.max(...all))}`);
console.log(`  near-duplicates: p50 ${fmt(pct(dup.lat, 50))}, p99 ${fmt(pct(dup.lat, 99))}, hit rate ${((100 * dup.hits) / dup.lat.length).toFixed(1)}%`);
console.log(`  new questions:   p50 ${fmt(pct(fresh.lat, 50))}, p99 ${fmt(pct(fresh.lat, 99))}, false hits ${fresh.hits}`);
console.log(`candidates checked per new question: ${perQuery.toFixed(0)}`);
console.log(`memory: ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MB rss`);
if (values.strict && p99 > 5) {
  console.error(`p99 ${fmt(p99)} is above the 5 ms target`);
  process.exit(2);
}
