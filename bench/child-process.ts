/**
 * Starting the benchmarks' child processes (mock upstream, floor proxy, gateways): waiting
 * for the line a child prints once it is ready, bounded in time, with what it said on
 * stderr when it does not get there.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Resolves with `match`'s value for the first stdout line it accepts; rejects when the child
 * exits first or `timeoutMs` passes.
 */
export function waitForLine(cp: ChildProcess, name: string, match: (line: string) => string | undefined, timeoutMs: number, stderrTail: () => string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    if (!cp.stdout) {
      reject(new Error(`${name}: no stdout`));
      return;
    }
    const rl = createInterface({ input: cp.stdout });
    let done = false;
    const finish = (err: Error | null, value?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cp.off('exit', onExit);
      if (err) reject(err);
      else resolvePromise(value ?? '');
    };
    const timer = setTimeout(() => finish(new Error(`${name} did not start within ${timeoutMs} ms\n${stderrTail()}`)), timeoutMs);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      finish(new Error(`${name} exited during startup (code ${code}, signal ${signal})\n${stderrTail()}`));
    cp.once('exit', onExit);
    rl.on('line', (line) => {
      const v = match(line);
      if (v !== undefined) finish(null, v);
    });
  });
}
