/**
 * Summarizes a V8 profile written by `node --cpu-prof` (`.cpuprofile`) or `node --heap-prof`
 * (`.heapprofile`): the top functions by self time (or by bytes allocated and still
 * unreclaimed when the profile was written), and the same grouped by package / source file,
 * so hot spots can be read without opening DevTools.
 *
 * Usage: node dist/bench/profile-summary.js FILE [--top N] [--by function|file|package]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface HeapProfileNode {
  id: number;
  callFrame: CallFrame;
  selfSize: number;
  children: HeapProfileNode[];
}

interface HeapProfile {
  head: HeapProfileNode;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, by: { type: 'string', default: 'all' } },
});

const file = positionals[0];
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile|FILE.heapprofile [--top N] [--by function|file|package|all]\n');
  process.exit(2);
}
const top = Math.max(1, Number(values.top) || 30);
// Piped into `head`: stop quietly when the reader goes away.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

/** node_modules/<pkg> (scoped too), node:internal, the repo's own dist/src/... path, or a V8 pseudo-frame. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] ?? url;
  if (url.startsWith('node:')) return url.startsWith('node:internal') ? `node:${url.split('/')[1] ?? 'internal'}` : url;
  const d = /\/dist\/(src|bench)\/(.*)$/.exec(url);
  if (d) return `llmops ${d[1]}/${(d[2] ?? '').split('/')[0] ?? ''}`;
  return url;
}

function shortUrl(url: string): string {
  const m = /node_modules\/(.*)$/.exec(url) ?? /\/(dist\/.*)$/.exec(url);
  return m?.[1] ?? url.replace(/^file:\/\//, '');
}

function frameKey(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'}  ${f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ''}`.trim();
}

function fileKey(f: CallFrame): string {
  return f.url ? shortUrl(f.url) : f.functionName || '(native)';
}

function print(title: string, totals: Map<string, number>, whole: number, unit: (n: number) => string): void {
  const rows = [...totals.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of rows) {
    process.stdout.write(`${((v / whole) * 100).toFixed(1).padStart(5)}%  ${unit(v).padStart(10)}  ${k}\n`);
  }
}

const add = (m: Map<string, number>, k: string, v: number): void => {
  m.set(k, (m.get(k) ?? 0) + v);
};

const text = readFileSync(file, 'utf8');
const data = JSON.parse(text) as Partial<CpuProfile> & Partial<HeapProfile>;
const by = values.by ?? 'all';

if (Array.isArray(data.nodes) && Array.isArray(data.samples) && Array.isArray(data.timeDeltas)) {
  const profile = data as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute it to the sample's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? -1;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    if (node.callFrame.functionName === '(idle)') idle += us;
    add(fn, frameKey(node.callFrame), us);
    add(files, fileKey(node.callFrame), us);
    add(pkgs, packageOf(node.callFrame.url, node.callFrame.functionName), us);
  }
  const busy = total - idle;
  const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
  process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy (${((busy / Math.max(1, total)) * 100).toFixed(1)}%); shares below are of the whole profile\n`);
  if (by === 'all' || by === 'package') print('self time by package / area', pkgs, total, ms);
  if (by === 'all' || by === 'file') print('self time by file', files, total, ms);
  if (by === 'all' || by === 'function') print('self time by function', fn, total, ms);
} else if (data.head) {
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  const pkgs = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapProfileNode): void => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      add(fn, frameKey(n.callFrame), n.selfSize);
      add(files, fileKey(n.callFrame), n.selfSize);
      add(pkgs, packageOf(n.callFrame.url, n.callFrame.functionName), n.selfSize);
    }
    for (const c of n.children) walk(c);
  };
  walk(data.head);
  const kb = (b: number): string => `${(b / 1024).toFixed(0)} KiB`;
  process.stdout.write(`${file}: ${kb(total)} sampled as not yet reclaimed when the profile was written\n`);
  if (by === 'all' || by === 'package') print('bytes by package / area', pkgs, total, kb);
  if (by === 'all' || by === 'file') print('bytes by file', files, total, kb);
  if (by === 'all' || by === 'function') print('bytes by allocating function', fn, total, kb);
} else {
  process.stderr.write(`${file}: neither a .cpuprofile nor a .heapprofile\n`);
  process.exit(2);
}
