#!/usr/bin/env node
/**
 * `npm run eval:guards`: runs every guard evaluation the project has (`eval:pii`,
 * `eval:secrets`, `eval:injection`, when package.json defines them) and the guard-cost
 * micro-bench (`bench:guards`), one after the other, printing all their figures, then a
 * summary line per script. Exits non-zero when any of them failed.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const wanted = ['eval:pii', 'eval:secrets', 'eval:injection', 'bench:guards'];
const present = wanted.filter((s) => pkg.scripts?.[s]);
const results = [];
for (const script of present) {
  console.log(`\n=== npm run ${script} ===`);
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '--silent', script], { stdio: 'inherit', shell: process.platform === 'win32' });
  results.push({ script, status: r.status ?? 1, seconds: (Date.now() - t0) / 1000 });
}
console.log('\n=== guard evaluations ===');
for (const w of wanted.filter((s) => !present.includes(s))) console.log(`${w.padEnd(16)} not defined (skipped)`);
for (const r of results) console.log(`${r.script.padEnd(16)} ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status})`}  ${r.seconds.toFixed(1)} s`);
process.exit(results.some((r) => r.status !== 0) ? 1 : 0);
