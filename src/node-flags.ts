import { setFlagsFromString } from 'node:v8';

/**
 * The V8 flags `llmops serve` runs with. They must be given when node starts (a young
 * generation's size is fixed when the heap is set up), so they live in three places that
 * `src/node-flags.test.ts` keeps equal: this list, the `llmops` bin's shebang
 * (`src/cli.ts`) and the `npm start` script; `npm run bench` starts the gateway with them.
 *
 * `--max-semi-space-size=8`: a request thread's young generation of 2 x 8 MB instead of
 * V8's 2 x 16 MB, which the gateway reaches a second after starting (module loading) and
 * never gives back. Measured in the README (Performance, memory).
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/**
 * A young-generation size given on the command line also overrides the one a worker
 * thread asks for in its `resourceLimits` (V8 prefers the flag), which would give the
 * trace writer thread 16 MB it does not use. The flag is read when an isolate's heap is set
 * up, so once the main thread runs it has done its work there: a worker that sizes its own
 * young generation clears it just before it starts.
 */
export function releaseYoungGenerationFlag(): void {
  setFlagsFromString('--max-semi-space-size=0');
}
