/**
 * `npm run bench:guards`: what the default input guards (injection, pii, secrets,
 * max_tokens) cost per request on a 2 KB prompt, timed through the real input-guards stage
 * on one core. Prints p50/p99/mean; the target is p50 <= 0.5 ms and p99 <= 2 ms
 * (`--strict` exits 2 when missed). Flags: --requests N (default 5000).
 */
import { parseArgs } from 'node:util';
import { builtinDetectors } from '../src/guards/detectors.js';
import { GuardrailEngine } from '../src/guards/policy/engine.js';
import { inputGuards } from '../src/guards/policy/input-stage.js';
import { GuardrailsSchema } from '../src/guards/policy/schema.js';
import type { RequestContext } from '../src/pipeline/context.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '5000' }, strict: { type: 'boolean', default: false } } });
const n = Number(values.requests);

const config = GuardrailsSchema.parse({
  default: 'std',
  policies: { std: { input: [{ type: 'injection' }, { type: 'pii', action: 'mask' }, { type: 'secrets', action: 'block' }, { type: 'max_tokens', max: 8000 }] } },
});
const stage = inputGuards(new GuardrailEngine(config, builtinDetectors()));

const paragraph =
  'Our quarterly planning meeting covers the migration of the billing service to the new cluster, the on-call rotation for the holidays, and the budget for the analytics team. ' +
  'Please summarise the main risks, list the open questions, and suggest who should own each follow-up. Contact me at jane.doe@example.com or +1 415 555 0100 if anything is unclear. ';
const prompt = paragraph.repeat(Math.ceil(2048 / paragraph.length)).slice(0, 2048);

function ctx(): RequestContext {
  return {
    requestedModel: 'chat',
    request: { kind: 'chat', body: { model: 'chat', messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content: prompt }] } },
  } as unknown as RequestContext;
}

const next = (): Promise<void> => Promise.resolve();
for (let i = 0; i < 500; i++) await stage(ctx(), next);
const times: number[] = [];
for (let i = 0; i < n; i++) {
  const c = ctx();
  const t0 = performance.now();
  await stage(c, next);
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
const mean = times.reduce((s, t) => s + t, 0) / times.length;
const p50 = q(0.5);
const p99 = q(0.99);
console.log(`input guards (injection, pii, secrets, max_tokens) on a ${prompt.length}-char prompt, ${n} requests`);
console.log(`p50 ${p50.toFixed(3)} ms   p99 ${p99.toFixed(3)} ms   mean ${mean.toFixed(3)} ms   (target p50 <= 0.5, p99 <= 2)`);
if (values.strict && (p50 > 0.5 || p99 > 2)) process.exit(2);
