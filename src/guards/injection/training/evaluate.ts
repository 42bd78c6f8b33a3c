/**
 * Held-out evaluation of an injection detector: the figures `npm run eval:injection` prints
 * and the eval test holds floors on.
 */
import { performance } from 'node:perf_hooks';
import type { RuleModelInjectionDetector } from '../detector.js';
import type { Example } from './dataset.js';
import { balancedAccuracy, falsePositiveRate, percentile, recall, recallAtFpr, type Scored } from './metrics.js';

export interface HeldOutReport {
  rows: { total: number; injections: number; benign: number; bySource: Record<string, number> };
  threshold: number;
  balancedAccuracy: number;
  recall: number;
  falsePositiveRate: number;
  recallAt1PctFpr: number;
  recallAt5PctFpr: number;
  /**
   * At the default threshold of a blocking guard (the model's `blockThreshold`: ≤1% false
   * positives out of fold on the training part), measured here on the held-out part.
   */
  atBlockDefault: {
    threshold: number;
    balancedAccuracy: number;
    recall: number;
    falsePositiveRate: number;
    hardNegativeFpr: number;
    deepsetBalancedAccuracy: number;
    ownAttacksRecall: number;
  };
  /** Model alone (no rule floor), for comparison. */
  modelOnly: { balancedAccuracy: number; recallAt1PctFpr: number; recallAt5PctFpr: number };
  /** Deepset held-out rows only (the public benchmark). */
  deepset: { rows: number; balancedAccuracy: number; recallAt1PctFpr: number; recallAt5PctFpr: number };
  /** Hand-written attacks and their obfuscated variants. */
  ownAttacksRecall: number;
  obfuscatedRecall: number;
  /** Benign prompts that talk about security, instructions, role-play or systems. */
  hardNegativeFpr: number;
  hardNegatives: number;
  falsePositives: string[];
  falseNegatives: string[];
}

export function evaluateHeldOut(detector: RuleModelInjectionDetector, examples: readonly Example[]): HeldOutReport {
  const held = examples.filter((e) => e.heldOut);
  const threshold = detector.threshold;
  const block = detector.blockThreshold;
  const scored = held.map((e) => ({ e, ...detector.explain(e.text) }));
  const all: Scored[] = scored.map((s) => ({ score: s.score, label: s.e.label }));
  const modelOnly: Scored[] = scored.map((s) => ({ score: s.model, label: s.e.label }));
  const deepset = scored.filter((s) => s.e.source === 'deepset').map((s) => ({ score: s.score, label: s.e.label }));
  const hard = scored.filter((s) => s.e.source === 'hard_negative').map((s) => ({ score: s.score, label: s.e.label }));
  const bySource: Record<string, number> = {};
  for (const e of held) bySource[`${e.source}`] = (bySource[e.source] ?? 0) + 1;
  const clip = (t: string): string => JSON.stringify(t.length > 100 ? `${t.slice(0, 100)}…` : t);
  return {
    rows: { total: held.length, injections: held.filter((e) => e.label === 1).length, benign: held.filter((e) => e.label === 0).length, bySource },
    threshold,
    balancedAccuracy: balancedAccuracy(all, threshold),
    recall: recall(all, threshold),
    falsePositiveRate: falsePositiveRate(all, threshold),
    recallAt1PctFpr: recallAtFpr(all, 0.01).recall,
    recallAt5PctFpr: recallAtFpr(all, 0.05).recall,
    atBlockDefault: {
      threshold: block,
      balancedAccuracy: balancedAccuracy(all, block),
      recall: recall(all, block),
      falsePositiveRate: falsePositiveRate(all, block),
      hardNegativeFpr: falsePositiveRate(hard, block),
      deepsetBalancedAccuracy: balancedAccuracy(deepset, block),
      ownAttacksRecall: recall(scored.filter((s) => s.e.source === 'attack' || s.e.source === 'obfuscated').map((s) => ({ score: s.score, label: s.e.label })), block),
    },
    modelOnly: {
      balancedAccuracy: balancedAccuracy(modelOnly, threshold),
      recallAt1PctFpr: recallAtFpr(modelOnly, 0.01).recall,
      recallAt5PctFpr: recallAtFpr(modelOnly, 0.05).recall,
    },
    deepset: {
      rows: deepset.length,
      balancedAccuracy: balancedAccuracy(deepset, threshold),
      recallAt1PctFpr: recallAtFpr(deepset, 0.01).recall,
      recallAt5PctFpr: recallAtFpr(deepset, 0.05).recall,
    },
    ownAttacksRecall: recall(scored.filter((s) => s.e.source === 'attack' || s.e.source === 'obfuscated').map((s) => ({ score: s.score, label: s.e.label })), threshold),
    obfuscatedRecall: recall(scored.filter((s) => s.e.source === 'obfuscated').map((s) => ({ score: s.score, label: s.e.label })), threshold),
    hardNegativeFpr: falsePositiveRate(hard, threshold),
    hardNegatives: hard.length,
    falsePositives: scored.filter((s) => s.e.label === 0 && s.score >= threshold).map((s) => `${s.score.toFixed(2)} ${s.e.source} ${clip(s.e.text)}`),
    falseNegatives: scored.filter((s) => s.e.label === 1 && s.score < threshold).map((s) => `${s.score.toFixed(2)} ${s.e.source}/${s.e.kind} ${clip(s.e.text)}`),
  };
}

export interface TimingReport {
  textChars: number;
  iterations: number;
  p50Ms: number;
  p99Ms: number;
}

/** Per-call latency of `score` on prompts of about `chars` characters built from the given texts. */
export function timeDetector(detector: RuleModelInjectionDetector, texts: readonly string[], chars = 2048, iterations = 3000): TimingReport {
  const prompts: string[] = [];
  for (let i = 0; i < 50; i++) {
    let p = '';
    for (let k = i; p.length < chars; k++) p += `${texts[(k * 7) % texts.length]} `;
    prompts.push(p.slice(0, chars));
  }
  for (let i = 0; i < 500; i++) detector.score(prompts[i % prompts.length]!);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const text = prompts[i % prompts.length]!;
    const t0 = performance.now();
    detector.score(text);
    times.push(performance.now() - t0);
  }
  return { textChars: chars, iterations, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
}
