/** The guardrail state one call carries through the pipeline (`ctx.guardrails`). */
import type { GuardDecision } from './decision.js';
import type { CompiledPolicy } from './engine.js';
import type { MaskVault } from '../mask.js';

export interface GuardrailState {
  policy: CompiledPolicy;
  /** Every guard's decision, input then output, in order. */
  decisions: GuardDecision[];
  /** Values masked reversibly on input, restored in the answer on the way out. */
  vault?: MaskVault;
}
