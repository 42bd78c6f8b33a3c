/**
 * The policy engine: compiles `guardrails:` once at start (guards, regexes, detectors) and
 * says which policy a call runs under — the key's (`by_key`, by name or id), else the
 * model's (`by_model`, the public name asked for), else `default`; `none` turns guards off.
 */
import type { Principal } from '../../keys/key-service.js';
import { compileInputGuard, type GuardDetectors, type InputGuard } from './input-guards.js';
import { compileOutputGuard, type OutputGuard } from './output-guards.js';
import type { GuardrailsConfig } from './schema.js';

export interface CompiledPolicy {
  readonly name: string;
  readonly input: readonly InputGuard[];
  readonly output: readonly OutputGuard[];
  readonly stream: 'buffer' | 'incremental';
  readonly lookbehind: number;
}

export class GuardrailEngine {
  private readonly policies = new Map<string, CompiledPolicy>();
  private readonly byKey: ReadonlyMap<string, string>;
  private readonly byModel: ReadonlyMap<string, string>;
  readonly review: GuardrailsConfig['review'];
  /** Whether any policy has output guards (else the output stage is left out). */
  readonly hasOutputGuards: boolean;

  /** Throws (naming the policy and guard) when a guard cannot be built, e.g. its detector is missing. */
  constructor(
    private readonly config: GuardrailsConfig,
    detectors: GuardDetectors,
  ) {
    for (const [name, p] of Object.entries(config.policies)) {
      const at = (stage: string, i: number, fn: () => unknown): unknown => {
        try {
          return fn();
        } catch (err) {
          throw new Error(`guardrails.policies.${name}.${stage}[${i}]: ${(err as Error).message}`, { cause: err });
        }
      };
      this.policies.set(name, {
        name,
        input: p.input.map((g, i) => at('input', i, () => compileInputGuard(g, detectors)) as InputGuard),
        output: p.output.map((g, i) => at('output', i, () => compileOutputGuard(g, detectors)) as OutputGuard),
        stream: p.stream,
        lookbehind: p.lookbehind_chars,
      });
    }
    this.byKey = new Map(Object.entries(config.by_key));
    this.byModel = new Map(Object.entries(config.by_model));
    this.review = config.review;
    this.hasOutputGuards = [...this.policies.values()].some((p) => p.output.length > 0);
  }

  /** The policy for a call, or undefined when no guards apply. */
  policyFor(principal: Principal | undefined, model: string | null): CompiledPolicy | undefined {
    const name =
      (principal && (this.byKey.get(principal.name) ?? (principal.keyId ? this.byKey.get(principal.keyId) : undefined))) ??
      (model !== null ? this.byModel.get(model) : undefined) ??
      this.config.default;
    return name === undefined || name === 'none' ? undefined : this.policies.get(name);
  }
}
