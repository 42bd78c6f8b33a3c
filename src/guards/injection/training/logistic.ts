/**
 * Training for the injection model: L2-regularized logistic regression with class-balanced
 * weights, fitted by AdaGrad over a seeded shuffle, so the same data gives the same model.
 */
import type { SparseVector } from '../features.js';
import { DENSE_FEATURES } from '../features.js';
import { mulberry32 } from '../../../prng.js';

export interface TrainOptions {
  bits: number;
  epochs: number;
  learningRate: number;
  l2: number;
  seed: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { bits: 16, epochs: 40, learningRate: 0.5, l2: 1e-4, seed: 20240605 };

export const prng = mulberry32;

export function trainLogistic(xs: readonly SparseVector[], ys: readonly number[], opts: TrainOptions): { weights: Float32Array; bias: number } {
  const dim = (1 << opts.bits) + DENSE_FEATURES.length;
  const w = new Float64Array(dim);
  const g2 = new Float64Array(dim).fill(1e-8);
  let b = 0;
  let gb2 = 1e-8;
  const positives = ys.filter((y) => y === 1).length;
  const negatives = ys.length - positives;
  const classWeight = [ys.length / (2 * Math.max(1, negatives)), ys.length / (2 * Math.max(1, positives))];
  const order = ys.map((_, i) => i);
  const rand = prng(opts.seed);
  for (let epoch = 0; epoch < opts.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    for (const i of order) {
      const x = xs[i]!;
      const y = ys[i]!;
      let z = b;
      for (let k = 0; k < x.indices.length; k++) z += w[x.indices[k]!]! * x.values[k]!;
      const p = 1 / (1 + Math.exp(-z));
      const err = (p - y) * classWeight[y]!;
      for (let k = 0; k < x.indices.length; k++) {
        const j = x.indices[k]!;
        const g = err * x.values[k]! + opts.l2 * w[j]!;
        g2[j]! += g * g;
        w[j]! -= (opts.learningRate * g) / Math.sqrt(g2[j]!);
      }
      gb2 += err * err;
      b -= (opts.learningRate * err) / Math.sqrt(gb2);
    }
  }
  return { weights: Float32Array.from(w), bias: b };
}
