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

/** Node flags that choose how V8 tiers WebAssembly; given by whoever started node, they win. */
const WASM_TIERING_FLAG = /^--(no-)?(wasm-tier-up|wasm-dynamic-tiering|liftoff|liftoff-only)(=|$)/;

/**
 * Keeps WebAssembly at V8's baseline compiler (Liftoff). undici parses upstream answers
 * with llhttp compiled to WebAssembly; once it is hot, V8 compiles its state machine again
 * with TurboFan in the background, and that one compile holds about 35 MB of compiler
 * memory for half a second in the first second of load: it was the gateway's peak RSS
 * (README, Performance). At Liftoff, parsing an upstream answer costs about 1 µs more; cache
 * hits parse none. V8 reads the flags when a module is compiled (undici's first upstream
 * connection), so this runs before the gateway starts. Returns false when node was started
 * with a WebAssembly tiering flag of its own (command line or NODE_OPTIONS), which is left as given.
 */
export function keepWasmAtBaseline(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean {
  if ([...execArgv, ...nodeOptions.split(/\s+/)].some((flag) => WASM_TIERING_FLAG.test(flag))) return false;
  setFlagsFromString('--no-wasm-dynamic-tiering');
  setFlagsFromString('--no-wasm-tier-up');
  return true;
}
