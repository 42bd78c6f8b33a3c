import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './package-root.js';
import { keepWasmAtBaseline, SERVE_NODE_FLAGS } from './node-flags.js';

/** The young generation (MB) of a new worker thread that asks for 4 MB in its resourceLimits. */
function workerNewSpaceMb(): Promise<number> {
  return new Promise((resolve, reject) => {
    const code = `
      const { getHeapSpaceStatistics } = require('node:v8');
      let keep = [];
      for (let i = 0; i < 1e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
      require('node:worker_threads').parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
    const w = new Worker(code, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    w.once('message', (mb: number) => void w.terminate().then(() => resolve(mb)));
    w.once('error', reject);
  });
}

/**
 * In a fresh node process (optionally after `keepWasmAtBaseline()`), a small WebAssembly
 * function called hot for up to a second: which of V8's compilers its code came from.
 */
function wasmTierAfterHotLoop(keepAtBaseline: boolean): string {
  const flags = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'node-flags.js')).href;
  const script = `
    import { keepWasmAtBaseline } from ${JSON.stringify(flags)};
    if (${keepAtBaseline}) keepWasmAtBaseline();
    // (module (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add))
    const bytes = new Uint8Array([0,97,115,109,1,0,0,0,1,6,1,96,1,127,1,127,3,2,1,0,7,5,1,1,102,0,0,10,9,1,7,0,32,0,65,1,106,11]);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.f;
    let x = 0;
    for (const t0 = Date.now(); Date.now() - t0 < 1000 && !%IsTurboFanFunction(f);) {
      for (let i = 0; i < 1e5; i++) x = f(x);
      await new Promise((r) => setTimeout(r, 1));
    }
    console.log(%IsTurboFanFunction(f) ? 'turbofan' : %IsLiftoffFunction(f) ? 'liftoff' : 'other');`;
  return execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } }).trim();
}

describe('the flags llmops serve runs with', () => {
  it('keep WebAssembly (undici\'s HTTP parser) at the baseline compiler, unless node was given a tiering flag', () => {
    expect(wasmTierAfterHotLoop(false)).toBe('turbofan'); // V8's default: hot code is recompiled
    expect(wasmTierAfterHotLoop(true)).toBe('liftoff');
    expect(keepWasmAtBaseline(['--wasm-dynamic-tiering'], '')).toBe(false);
    expect(keepWasmAtBaseline([], '--max-old-space-size=512 --no-liftoff-only')).toBe(false);
  }, 20_000);

  it('are the same in the bin shebang, the npm start script and the list the bench uses', () => {
    const shebang = readFileSync(join(PACKAGE_ROOT, 'src', 'cli.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVE_NODE_FLAGS.join(' ')}`);
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${SERVE_NODE_FLAGS.join(' ')} dist/src/cli.js serve`);
  });

  it('no longer size worker threads once the trace writer thread has started', async () => {
    // Set at run time, the flag sizes later isolates exactly as it does from the command line.
    const { TraceWriterThread } = (await import(pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', 'traces', 'trace-writer-thread.js')).href)) as typeof import('./traces/trace-writer-thread.js');
    const dir = mkdtempSync(join(tmpdir(), 'llmops-flags-'));
    setFlagsFromString('--max-semi-space-size=8');
    try {
      expect(await workerNewSpaceMb()).toBe(16); // the flag overrides resourceLimits
      const writer = new TraceWriterThread(`sqlite:${join(dir, 'w.db')}`);
      expect(await workerNewSpaceMb()).toBeLessThanOrEqual(4);
      await writer.close();
    } finally {
      setFlagsFromString('--max-semi-space-size=0');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
