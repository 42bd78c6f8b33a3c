/**
 * Fits the injection model on the training part and picks its default thresholds by 5-fold
 * cross-validation on that same part (the held-out part is never read here): `threshold`
 * maximizes balanced accuracy out of fold; `blockThreshold` (the default of a guard that
 * blocks) is the lowest with at most 1% false positives on the out-of-fold benign rows.
 */
import { combineScore } from '../detector.js';
import { featurize, type SparseVector } from '../features.js';
import { encodeModel, logit, sigmoid, type InjectionModel, type ModelFile } from '../model.js';
import { normalize } from '../normalize.js';
import { runRules, type RuleResult } from '../rules.js';
import type { Example } from './dataset.js';
import { fnv1a } from './dataset.js';
import { DEFAULT_TRAIN_OPTIONS, trainLogistic, type TrainOptions } from './logistic.js';
import { balancedAccuracy, bestThreshold, falsePositiveRate, recall, thresholdAtFpr, type Scored } from './metrics.js';

/** Most false positives a blocking guard's default threshold may cost on the training part's benign rows. */
export const BLOCK_MAX_FPR = 0.01;

interface Prepared {
  x: SparseVector;
  rules: RuleResult;
  label: 0 | 1;
  /** Rows derived from one attack share a group, so folds do not split them. */
  group: string;
}

function prepare(examples: readonly Example[], bits: number): Prepared[] {
  return examples.map((e) => {
    const n = normalize(e.text);
    const rules = runRules(n);
    return { x: featurize(n, rules, bits), rules, label: e.label, group: e.group };
  });
}

function fit(rows: readonly Prepared[], opts: TrainOptions): InjectionModel {
  const { weights, bias } = trainLogistic(rows.map((r) => r.x), rows.map((r) => r.label), opts);
  return { bits: opts.bits, bias, weights, threshold: 0.5, blockThreshold: 0.5 };
}

export interface TrainResult {
  file: ModelFile;
  model: InjectionModel;
  crossValidation: {
    balancedAccuracy: number;
    falsePositiveRate: number;
    threshold: number;
    /** At `blockThreshold`, out of fold. */
    block: { threshold: number; maxFpr: number; falsePositiveRate: number; recall: number; balancedAccuracy: number };
  };
}

/** Trains on the examples with `heldOut === false`; folds keep each group together. */
export function trainModel(examples: readonly Example[], opts: TrainOptions = DEFAULT_TRAIN_OPTIONS): TrainResult {
  const training = examples.filter((e) => !e.heldOut);
  const rows = prepare(training, opts.bits);

  // Out-of-fold combined scores for the threshold.
  const folds = 5;
  const oof: Scored[] = [];
  for (let f = 0; f < folds; f++) {
    const inFold = (r: Prepared): boolean => fnv1a(`fold:${r.group}`) % folds === f;
    const model = fit(rows.filter((r) => !inFold(r)), opts);
    for (const r of rows.filter(inFold)) oof.push({ score: combineScore(sigmoid(logit(model, r.x)), r.rules), label: r.label });
  }
  const threshold = bestThreshold(oof);
  const blockThreshold = thresholdAtFpr(oof, BLOCK_MAX_FPR);

  const model = { ...fit(rows, opts), threshold, blockThreshold };
  const crossValidation = {
    balancedAccuracy: balancedAccuracy(oof, threshold),
    falsePositiveRate: falsePositiveRate(oof, threshold),
    threshold,
    block: {
      threshold: blockThreshold,
      maxFpr: BLOCK_MAX_FPR,
      falsePositiveRate: falsePositiveRate(oof, blockThreshold),
      recall: recall(oof, blockThreshold),
      balancedAccuracy: balancedAccuracy(oof, blockThreshold),
    },
  };
  const counts: Record<string, number> = {};
  for (const e of training) counts[`${e.source}_${e.label}`] = (counts[`${e.source}_${e.label}`] ?? 0) + 1;
  const file = encodeModel(model, {
    algorithm: 'logistic regression, AdaGrad, class-balanced, L2',
    options: opts,
    trainingRows: counts,
    crossValidation,
  });
  return { file, model, crossValidation };
}
