/**
 * Measures the committed prompt-injection model on the held-out part (never used for
 * training or for the threshold) and times it on 2 KB prompts.
 *
 *   npm run eval:injection [-- --json]
 */
import { RuleModelInjectionDetector } from '../src/guards/injection/detector.js';
import { deepsetAvailable, DEEPSET_PATH, loadExamples } from '../src/guards/injection/training/dataset.js';
import { evaluateHeldOut, timeDetector } from '../src/guards/injection/training/evaluate.js';

if (!deepsetAvailable()) {
  console.error(`eval:injection: ${DEEPSET_PATH} not found (set LLMOPS_INJECTION_DATA)`);
  process.exit(1);
}
const examples = loadExamples();
const detector = new RuleModelInjectionDetector();
const report = evaluateHeldOut(detector, examples);
const timing = timeDetector(detector, examples.filter((e) => e.label === 0).map((e) => e.text));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ ...report, timing }, null, 2));
} else {
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  console.log(`held-out rows: ${report.rows.total} (${report.rows.injections} injections, ${report.rows.benign} benign) ${JSON.stringify(report.rows.bySource)}`);
  console.log(`threshold ${report.threshold.toFixed(3)}`);
  console.log(`balanced accuracy     ${pct(report.balancedAccuracy)}  (recall ${pct(report.recall)}, FPR ${pct(report.falsePositiveRate)})`);
  const d = report.atBlockDefault;
  console.log(
    `at the blocking default ${d.threshold.toFixed(3)} (<=1% FPR out of fold on training): balanced accuracy ${pct(d.balancedAccuracy)} (recall ${pct(d.recall)}, FPR ${pct(d.falsePositiveRate)}, hard-negative FPR ${pct(d.hardNegativeFpr)}), deepset balanced accuracy ${pct(d.deepsetBalancedAccuracy)}, own attacks recall ${pct(d.ownAttacksRecall)}`,
  );
  console.log(`recall at 1% FPR      ${pct(report.recallAt1PctFpr)}`);
  console.log(`recall at 5% FPR      ${pct(report.recallAt5PctFpr)}`);
  console.log(`hard-negative FPR     ${pct(report.hardNegativeFpr)} of ${report.hardNegatives}`);
  console.log(`deepset only (${report.deepset.rows} rows): balanced accuracy ${pct(report.deepset.balancedAccuracy)}, recall at 1%/5% FPR ${pct(report.deepset.recallAt1PctFpr)} / ${pct(report.deepset.recallAt5PctFpr)}`);
  console.log(`own attacks recall ${pct(report.ownAttacksRecall)}, obfuscated ${pct(report.obfuscatedRecall)}`);
  console.log(`model alone: balanced accuracy ${pct(report.modelOnly.balancedAccuracy)}, recall at 1%/5% FPR ${pct(report.modelOnly.recallAt1PctFpr)} / ${pct(report.modelOnly.recallAt5PctFpr)}`);
  console.log(`timing on ${timing.textChars}-char prompts: p50 ${timing.p50Ms.toFixed(3)} ms, p99 ${timing.p99Ms.toFixed(3)} ms (${timing.iterations} calls)`);
  if (process.argv.includes('--errors')) {
    console.log('\nfalse positives:');
    for (const l of report.falsePositives) console.log(`  ${l}`);
    console.log('false negatives:');
    for (const l of report.falseNegatives) console.log(`  ${l}`);
  }
}
