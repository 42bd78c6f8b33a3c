/**
 * Trains the prompt-injection model and writes `data/guards/injection-model.json`.
 * Deterministic: the same data and options give the same file.
 *
 *   npm run train:injection
 */
import { writeFileSync } from 'node:fs';
import { deepsetAvailable, DEEPSET_PATH, loadExamples } from '../src/guards/injection/training/dataset.js';
import { MODEL_PATH } from '../src/guards/injection/model.js';
import { trainModel } from '../src/guards/injection/training/train.js';

if (!deepsetAvailable()) {
  console.error(`train:injection: ${DEEPSET_PATH} not found (set LLMOPS_INJECTION_DATA)`);
  process.exit(1);
}
const examples = loadExamples();
const { file, crossValidation } = trainModel(examples);
const json = `${JSON.stringify(file)}\n`;
writeFileSync(MODEL_PATH, json);
console.log(`wrote ${MODEL_PATH} (${(json.length / 1024).toFixed(0)} KiB)`);
console.log(`training rows: ${JSON.stringify(file.training.trainingRows)}`);
console.log(`5-fold cross-validation on the training part: balanced accuracy ${crossValidation.balancedAccuracy.toFixed(3)}, FPR ${crossValidation.falsePositiveRate.toFixed(3)}, threshold ${crossValidation.threshold.toFixed(3)}`);
const b = crossValidation.block;
console.log(`blocking default (out-of-fold FPR <= ${b.maxFpr * 100}%): threshold ${b.threshold.toFixed(3)}, FPR ${b.falsePositiveRate.toFixed(3)}, recall ${b.recall.toFixed(3)}, balanced accuracy ${b.balancedAccuracy.toFixed(3)}`);
