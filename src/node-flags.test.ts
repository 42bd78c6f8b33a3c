import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './package-root.js';
import { releaseYoungGenerationFlag, SERVE_NODE_FLAGS } from './node-flags.js';

describe('the flags llmops serve runs with', () => {
  it('are the same in the bin shebang, the npm start script and the list the bench uses', () => {
    const shebang = readFileSync(join(PACKAGE_ROOT, 'src', 'cli.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVE_NODE_FLAGS.join(' ')}`);
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${SERVE_NODE_FLAGS.join(' ')} dist/src/cli.js serve`);
  });

  it('leave a worker thread the young generation its resourceLimits ask for once released', async () => {
    // Here the flag is set at run time, which sizes later isolates exactly as the command line does.
    const workerNewSpaceMb = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const code = `
          const { getHeapSpaceStatistics } = require('node:v8');
          let keep = [];
          for (let i = 0; i < 1e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 50000) keep = []; }
          require('node:worker_threads').parentPort.postMessage(getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576);`;
        const w = new Worker(code, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
        w.once('message', (mb: number) => void w.terminate().then(() => resolve(mb)));
        w.once('error', reject);
      });
    expect(getHeapSpaceStatistics().length).toBeGreaterThan(0);
    setFlagsFromString('--max-semi-space-size=8');
    try {
      expect(await workerNewSpaceMb()).toBe(16);
      releaseYoungGenerationFlag(setFlagsFromString);
      expect(await workerNewSpaceMb()).toBeLessThanOrEqual(4);
    } finally {
      setFlagsFromString('--max-semi-space-size=0');
    }
  }, 20_000);
});
