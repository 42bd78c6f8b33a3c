import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './package-root.js';
import { SERVE_NODE_FLAGS } from './node-flags.js';

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

describe('the flags llmops serve runs with', () => {
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
