/**
 * The injection model: logistic regression over `features.ts`, trained by
 * `npm run train:injection` and committed as JSON (`data/guards/injection-model.json`).
 * Weights are stored as little-endian Int16 in base64 with one scale, which keeps the file
 * small and exact to reload.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { PACKAGE_ROOT } from '../../package-root.js';
import { DENSE_FEATURES, type SparseVector } from './features.js';

export const MODEL_PATH = join(PACKAGE_ROOT, 'data', 'guards', 'injection-model.json');

export const ModelFileSchema = z.object({
  format: z.literal('llmops-injection-logreg-v1'),
  /** Hashed features use 2^bits slots; the dense features follow. */
  bits: z.number().int().min(8).max(20),
  dense: z.array(z.string()),
  bias: z.number(),
  /** Weight = int16 × scale. */
  scale: z.number().positive(),
  weights: z.string(),
  /** Default decision threshold on the combined score, tuned on the training part only. */
  threshold: z.number().min(0).max(1),
  /**
   * Default threshold of a guard that blocks: the lowest with at most 1% false positives on
   * the training part's benign rows, out of fold (5-fold cross-validation; never the held-out part).
   */
  blockThreshold: z.number().min(0).max(1),
  /** How the model was trained and what it measured (informational). */
  training: z.record(z.string(), z.unknown()),
});
export type ModelFile = z.infer<typeof ModelFileSchema>;

export interface InjectionModel {
  bits: number;
  bias: number;
  weights: Float32Array;
  threshold: number;
  blockThreshold: number;
}

export function encodeModel(model: InjectionModel, training: Record<string, unknown>): ModelFile {
  let max = 0;
  for (const w of model.weights) max = Math.max(max, Math.abs(w));
  const scale = max > 0 ? max / 32767 : 1;
  const q = new Int16Array(model.weights.length);
  for (let i = 0; i < q.length; i++) q[i] = Math.round((model.weights[i] ?? 0) / scale);
  return {
    format: 'llmops-injection-logreg-v1',
    bits: model.bits,
    dense: [...DENSE_FEATURES],
    bias: model.bias,
    scale,
    weights: Buffer.from(q.buffer, q.byteOffset, q.byteLength).toString('base64'),
    threshold: model.threshold,
    blockThreshold: model.blockThreshold,
    training,
  };
}

export function decodeModel(file: ModelFile): InjectionModel {
  if (file.dense.join(',') !== DENSE_FEATURES.join(',')) {
    throw new Error(`injection model: dense features ${file.dense.join(',')} do not match the code (${DENSE_FEATURES.join(',')}); run npm run train:injection`);
  }
  const bytes = Buffer.from(file.weights, 'base64');
  const q = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const expected = (1 << file.bits) + DENSE_FEATURES.length;
  if (q.length !== expected) throw new Error(`injection model: ${q.length} weights, expected ${expected}`);
  const weights = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) weights[i] = q[i]! * file.scale;
  return { bits: file.bits, bias: file.bias, weights, threshold: file.threshold, blockThreshold: file.blockThreshold };
}

export function loadModel(path = MODEL_PATH): InjectionModel {
  return decodeModel(ModelFileSchema.parse(JSON.parse(readFileSync(path, 'utf8'))));
}

/** The model's logit for a feature vector. */
export function logit(model: InjectionModel, x: SparseVector): number {
  let z = model.bias;
  for (let k = 0; k < x.indices.length; k++) z += (model.weights[x.indices[k]!] ?? 0) * x.values[k]!;
  return z;
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
