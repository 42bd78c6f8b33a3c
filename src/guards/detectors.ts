/**
 * The built-in detectors behind the `pii`, `secrets` and `injection` guards, each built
 * on first use (only when a policy names it), once per gateway.
 */
import { defaultInjectionDetector } from './injection/detector.js';
import { PiiDetector } from './pii/index.js';
import type { GuardDetectors } from './policy/input-guards.js';
import { SecretsDetector } from './secrets/index.js';
import type { EntityDetector, InjectionDetector } from './types.js';

export function builtinDetectors(): GuardDetectors {
  let pii: EntityDetector | undefined;
  let secrets: EntityDetector | undefined;
  let injection: InjectionDetector | undefined;
  return {
    get pii() {
      return (pii ??= new PiiDetector());
    },
    get secrets() {
      return (secrets ??= new SecretsDetector());
    },
    get injection() {
      return (injection ??= defaultInjectionDetector());
    },
  };
}
