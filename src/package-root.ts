/** The llmops package's root folder (holding `package.json` and `data/`), from source or from `dist/`. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('llmops: cannot find the package root (package.json beside data/)');
    dir = up;
  }
}

export const PACKAGE_ROOT = find();
