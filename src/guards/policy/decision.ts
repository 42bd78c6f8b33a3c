/**
 * What one guard decided on one call, as the trace keeps it, and the per-call guard state
 * the stages share (decisions so far, the reversible-mask vault, the chosen policy).
 * Decisions carry entity types and counts, never a raw value.
 */
import { LlmopsError } from '../../errors.js';
import type { GuardrailResult } from '../../store/types.js';
import type { GuardAction } from './schema.js';

export type Verdict = 'pass' | 'flag' | 'mask' | 'block' | 'retry' | 'fallback';

/** A decision as the trace keeps it. */
export interface GuardDecision extends GuardrailResult {
  stage: 'input' | 'output';
  action: GuardAction;
  verdict: Verdict;
}

/** The error a blocked call ends with: HTTP 400, code `guardrail_blocked`, naming the guard. */
export function blockedError(guard: string, stage: 'input' | 'output', why: string): LlmopsError {
  return new LlmopsError('guardrail_blocked', `Blocked by the ${stage} guardrail '${guard}': ${why}`, { param: guard });
}

export function countTypes(types: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of types) out[t] = (out[t] ?? 0) + 1;
  return out;
}

export function msSince(t0: number): number {
  return Math.round((performance.now() - t0) * 1000) / 1000;
}
