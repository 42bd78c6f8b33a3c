/**
 * What the benchmarks read about their processes from Linux `/proc` (no profiler, nothing
 * that changes what is measured), and whether `taskset` can pin them to CPUs.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Whether `taskset` runs here (util-linux), to pin processes to CPUs. */
export const hasTaskset = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status === 0;

/** Clock ticks per second, the unit of CPU time in `/proc` (USER_HZ, 100 on Linux). */
export const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/** A field of `/proc/PID/status` in kB (resident set now, or its peak). */
export function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of a `/proc/.../stat` line after the command name (field 3, the state, first). */
function statFields(path: string): string[] {
  const s = readFileSync(path, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of a process (all its threads), or of one thread with `tid`, in clock ticks. */
export function procCpuTicks(pid: number, tid?: number): number | undefined {
  try {
    const f = statFields(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`);
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** Each thread of a process: its CPU ticks so far and its nice value. */
export function procThreads(pid: number): Map<number, { ticks: number; nice: number }> {
  const out = new Map<number, { ticks: number; nice: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = statFields(`/proc/${pid}/task/${tid}/stat`);
      out.set(Number(tid), { ticks: Number(f[11]) + Number(f[12]), nice: Number(f[16]) });
    } catch {
      // the thread ended
    }
  }
  return out;
}
