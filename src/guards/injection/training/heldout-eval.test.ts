/**
 * Floors on the held-out figures of the committed injection model (measured with
 * `npm run eval:injection`; floors set just below them), and a check that the committed
 * model is what `npm run train:injection` writes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RuleModelInjectionDetector } from '../detector.js';
import { MODEL_PATH } from '../model.js';
import { deepsetAvailable, loadExamples } from './dataset.js';
import { evaluateHeldOut } from './evaluate.js';
import { trainModel } from './train.js';

describe.skipIf(!deepsetAvailable())('injection model on the held-out part', () => {
  const examples = loadExamples();
  const report = evaluateHeldOut(new RuleModelInjectionDetector(), examples);

  it('keeps its held-out figures', () => {
    expect(report.rows.total).toBeGreaterThan(200);
    expect(report.balancedAccuracy).toBeGreaterThanOrEqual(0.93);
    expect(report.recallAt1PctFpr).toBeGreaterThanOrEqual(0.9);
    expect(report.recallAt5PctFpr).toBeGreaterThanOrEqual(0.92);
    expect(report.deepset.balancedAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(report.obfuscatedRecall).toBeGreaterThanOrEqual(0.93);
    expect(report.hardNegativeFpr).toBeLessThanOrEqual(0.07);
  });

  it('keeps its held-out figures at the blocking default (chosen out of fold on the training part)', () => {
    const b = report.atBlockDefault;
    expect(b.threshold).toBeGreaterThan(report.threshold);
    expect(b.falsePositiveRate).toBeLessThanOrEqual(0.02);
    expect(b.recall).toBeGreaterThanOrEqual(0.75);
    expect(b.balancedAccuracy).toBeGreaterThanOrEqual(0.87);
    expect(b.hardNegativeFpr).toBeLessThanOrEqual(0.04);
  });

  it('is what npm run train:injection writes (deterministic, not stale)', () => {
    const { file, crossValidation } = trainModel(examples);
    const committed = JSON.parse(readFileSync(MODEL_PATH, 'utf8')) as { weights: string; threshold: number; blockThreshold: number };
    expect(file.threshold).toBe(committed.threshold);
    expect(file.blockThreshold).toBe(committed.blockThreshold);
    expect(crossValidation.block.falsePositiveRate).toBeLessThanOrEqual(0.01);
    expect(file.weights).toBe(committed.weights);
  });
});
