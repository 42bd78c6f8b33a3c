/**
 * The paired benchmark (bench/paired-bench.ts) as `npm run bench:paired` runs it (built
 * files, real gateways, mock and load generator): two gateways of this checkout, one round
 * each; every request is answered, the CPU split adds up to the total, and the store
 * settings reach the gateway they are given to (a bad one stops it).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../dist/bench/paired-bench.js', import.meta.url));
const run = promisify(execFile);

interface Side {
  side: string;
  rps: number;
  cpuUs: number;
  mainUs: number;
  writerUs: number;
  otherUs: number;
  peakRssMb: number;
  rounds: unknown[];
}

describe('bench paired', () => {
  it('loads both gateways in turn and splits each one\'s CPU per request by thread', async () => {
    const { stdout } = await run(process.execPath, [SCRIPT, '--rounds', '1', '--seconds', '1', '--connections', '16', '--json', '--b-store', '{"trace_batch_size":64}']);
    const sides = JSON.parse(stdout) as Side[];
    expect(sides.map((s) => s.side)).toEqual(['A', 'B']);
    for (const s of sides) {
      expect(s.rounds).toHaveLength(1);
      expect(s.rps).toBeGreaterThan(0);
      expect(s.mainUs).toBeGreaterThan(0);
      // The writer thread is found (it stores every trace) and the parts add up to the whole.
      expect(s.writerUs).toBeGreaterThan(0);
      expect(s.mainUs + s.writerUs + s.otherUs).toBeCloseTo(s.cpuUs, 0);
      expect(s.peakRssMb).toBeGreaterThan(20);
    }
  }, 60_000);

  it('fails with the gateway\'s own error when a store setting is invalid', async () => {
    const r = await run(process.execPath, [SCRIPT, '--rounds', '1', '--seconds', '0.5', '--b-store', '{"trace_batch_size":-1}']).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(1);
    expect((r as { stderr: string }).stderr).toContain('trace_batch_size');
  }, 60_000);
});
