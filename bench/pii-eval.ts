/**
 * `npm run eval:pii`: per-entity precision, recall and F2 of the PII detector on Presidio's
 * synthetic set, for the dev part and the held-out part (rows whose index % 5 == 0; tune
 * only on the dev part), and a timing line: p50/p99 microseconds for PII plus secrets
 * detection on one 2 KB text. See `pii-dataset.ts` for the type mapping and the matching.
 *
 * Flags: --json (one JSON object instead of tables), --mistakes N (print N dev-set misses
 * and false alarms per type, for tuning; never the held-out part).
 */
import { parseArgs } from 'node:util';
import { PiiDetector } from '../src/guards/pii/index.js';
import { SecretsDetector } from '../src/guards/secrets/index.js';
import { renderTable } from '../src/table.js';
import { combine, type EntityScore, evaluate, loadPresidio, type Mistake, splitRows, timeDetectors, timingTexts, typicalPrompt } from './pii-dataset.js';

const { values } = parseArgs({ options: { json: { type: 'boolean', default: false }, mistakes: { type: 'string' } } });
const rows = loadPresidio();
const { dev, heldOut } = splitRows(rows);
const pii = new PiiDetector();
const secrets = new SecretsDetector();
const mistakes: Mistake[] = [];
const devScores = evaluate(dev, (t) => pii.detect(t), mistakes);
const heldScores = evaluate(heldOut, (t) => pii.detect(t));
const timing = timeDetectors(timingTexts(rows), combine(pii, secrets));
const typical = timeDetectors([typicalPrompt()], combine(pii, secrets), 2000);

const pct = (x: number): string => (100 * x).toFixed(1);
const table = (title: string, scores: EntityScore[]): string =>
  `${title}\n` + renderTable(['entity', 'gold', 'pred', 'precision', 'recall', 'F2'], scores.map((s) => [s.type, String(s.gold), String(s.predicted), pct(s.precision), pct(s.recall), pct(s.f2)]));

if (values.json) {
  console.log(JSON.stringify({ dev: devScores, heldOut: heldScores, timingMicros: { denseDataset: timing, typicalPrompt: typical }, rows: { dev: dev.length, heldOut: heldOut.length } }, null, 2));
} else {
  console.log(table(`dev (${dev.length} rows)`, devScores));
  console.log(table(`held-out (${heldOut.length} rows, index % 5 == 0)`, heldScores));
  console.log(`timing: PII + secrets on a 2 KB text, one core, ${process.version}:`);
  console.log(`  dataset rows joined (PII-dense): p50 ${timing.p50.toFixed(0)} µs, p99 ${timing.p99.toFixed(0)} µs`);
  console.log(`  typical prompt (prose + code):   p50 ${typical.p50.toFixed(0)} µs, p99 ${typical.p99.toFixed(0)} µs`);
  const n = values.mistakes === undefined ? 0 : Number(values.mistakes);
  if (n > 0) {
    for (const kind of ['fn', 'fp'] as const) {
      const byType = new Map<string, Mistake[]>();
      for (const m of mistakes.filter((x) => x.kind === kind)) byType.set(m.type, [...(byType.get(m.type) ?? []), m]);
      for (const [type, list] of byType) {
        console.log(`\n== dev ${kind} ${type} (${list.length})`);
        for (const m of list.slice(0, n)) console.log(`  ${JSON.stringify(m.value)}  ||  ${JSON.stringify(m.text.slice(0, 140))}`);
      }
    }
  }
}
