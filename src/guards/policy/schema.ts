/**
 * The `guardrails:` config: named policies, each an ordered list of input guards and of
 * output guards, chosen per key, per model (route) or by default; and the review queue's
 * sampling. Strict objects, so a misspelt option names itself at start.
 */
import { z } from 'zod';

export const ACTIONS = ['block', 'mask', 'flag', 'retry', 'fallback'] as const;
export type GuardAction = (typeof ACTIONS)[number];

const Threshold = z.number().min(0).max(1);
const EntityTypes = z.array(z.string().regex(/^[A-Z0-9_/]+$/, 'entity types are upper case, e.g. EMAIL_ADDRESS')).min(1);

/** Entity guards (PII and secrets) on either stage. */
const entityOptions = {
  /** Only these entity types (default: every type the detector knows). */
  types: EntityTypes.optional(),
  /** Spans below this confidence are ignored. */
  threshold: Threshold.optional(),
};

const InputAction = z.enum(['block', 'mask', 'flag']);
const FlagOrBlock = z.enum(['block', 'flag']);
const OutputAction = z.enum(['block', 'mask', 'flag', 'retry', 'fallback']);
const OutputNoMask = z.enum(['block', 'flag', 'retry', 'fallback']);

export const InputGuardSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('injection'),
    action: FlagOrBlock.default('block'),
    /**
     * Score at or above which the guard fires. Default: the model's own (`data/guards/injection-model.json`,
     * tuned by cross-validation on the training part): `blockThreshold` (≤1% false positives) for
     * `block`, `threshold` (best balanced accuracy) for `flag`.
     */
    threshold: Threshold.optional(),
    /** Also score `/v1/embeddings` inputs (off by default: they are not instructions to a model). */
    embeddings: z.boolean().default(false),
  }),
  z.strictObject({
    type: z.literal('pii'),
    action: InputAction.default('mask'),
    ...entityOptions,
    /** Masked values come back in the answer (placeholders restored for the caller); the provider never sees them. */
    reversible: z.boolean().default(true),
  }),
  z.strictObject({ type: z.literal('secrets'), action: InputAction.default('block'), ...entityOptions }),
  z.strictObject({
    type: z.literal('max_tokens'),
    action: FlagOrBlock.default('block'),
    /** Most input tokens a request may carry (counted with the tokenizer). */
    max: z.number().int().positive(),
  }),
  z.strictObject({
    type: z.literal('deny'),
    action: InputAction.default('block'),
    /** Whole words or phrases, case-insensitive. */
    words: z.array(z.string().min(1)).default([]),
    /** Regular expressions (JavaScript syntax), case-insensitive. */
    patterns: z.array(z.string().min(1)).default([]),
    name: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('topics'),
    action: FlagOrBlock.default('block'),
    /** Topic name → keywords; a request must mention at least `min_matches` keywords of one topic. */
    allow: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
    min_matches: z.number().int().positive().default(1),
  }),
]);
export type InputGuardConfig = z.infer<typeof InputGuardSchema>;

export const SourcesSchema = z.strictObject({
  /** `metadata.<key>`: an array of strings or of `{ id?, text }` objects. */
  metadata_key: z.string().min(1).default('sources'),
  /** Messages holding retrieved context: by role (e.g. `tool`), and/or by `name`. */
  message_roles: z.array(z.enum(['system', 'developer', 'user', 'tool'])).default([]),
  message_names: z.array(z.string().min(1)).default([]),
});

export const OutputGuardSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('pii'), action: OutputAction.default('mask'), ...entityOptions }),
  z.strictObject({ type: z.literal('secrets'), action: OutputAction.default('mask'), ...entityOptions }),
  z.strictObject({
    type: z.literal('json'),
    /** Checked only when the request's `response_format` asks for JSON; `retry` re-asks once with the errors, then fails. */
    action: OutputNoMask.default('retry'),
  }),
  z.strictObject({
    type: z.literal('toxicity'),
    action: OutputAction.default('flag'),
    /** Score (0..1) at or above which the guard fires. */
    threshold: Threshold.default(0.5),
  }),
  z.strictObject({
    type: z.literal('grounding'),
    action: OutputNoMask.default('flag'),
    /** Grounding score (0..1, share of supported sentences) below which the call is flagged. */
    threshold: Threshold.default(0.5),
    /** Share of a sentence's content words that must appear in the sources for it to count as supported. */
    sentence_overlap: Threshold.default(0.5),
    sources: SourcesSchema.prefault({}),
  }),
]);
export type OutputGuardConfig = z.infer<typeof OutputGuardSchema>;

export const PolicySchema = z
  .strictObject({
    input: z.array(InputGuardSchema).default([]),
    output: z.array(OutputGuardSchema).default([]),
    /** Streams: `buffer` holds the whole answer for the output guards; `incremental` scans as it flows and masks in flight. */
    stream: z.enum(['buffer', 'incremental']).default('buffer'),
    /** `incremental`: characters held back so an entity split over chunks is still caught. */
    lookbehind_chars: z.number().int().min(8).max(4096).default(64),
  })
  .superRefine((p, ctx) => {
    if (p.stream !== 'incremental') return;
    p.output.forEach((g, i) => {
      if (g.action === 'retry' || g.action === 'fallback') {
        ctx.addIssue({ code: 'custom', path: ['output', i, 'action'], message: `'${g.action}' needs stream: buffer (an incremental stream has already reached the client)` });
      }
    });
  });
export type PolicyConfig = z.infer<typeof PolicySchema>;

export const ReviewSchema = z.strictObject({
  /** Calls a guard flagged enter the review queue. */
  flagged: z.boolean().default(true),
  /** Blocked calls too. */
  blocked: z.boolean().default(false),
  /** Share (0..1) of all other calls sampled into the queue at random. */
  sample_rate: z.number().min(0).max(1).default(0),
});

export const GuardrailsSchema = z
  .strictObject({
    policies: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, 'policy names are letters, digits, - and _'), PolicySchema),
    /** The policy of calls no `by_key`/`by_model` entry names; none when absent. */
    default: z.string().optional(),
    /** Key name (or key id) → policy name; `none` turns guards off. Wins over `by_model`. */
    by_key: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Public model name (route) → policy name; `none` turns guards off. */
    by_model: z.record(z.string().min(1), z.string().min(1)).default({}),
    review: ReviewSchema.prefault({}),
  })
  .superRefine((g, ctx) => {
    const known = (name: string): boolean => name === 'none' || Object.hasOwn(g.policies, name);
    if (g.default !== undefined && !known(g.default)) ctx.addIssue({ code: 'custom', path: ['default'], message: `no policy named '${g.default}'` });
    for (const field of ['by_key', 'by_model'] as const) {
      for (const [k, v] of Object.entries(g[field])) if (!known(v)) ctx.addIssue({ code: 'custom', path: [field, k], message: `no policy named '${v}'` });
    }
  });
export type GuardrailsConfig = z.infer<typeof GuardrailsSchema>;
