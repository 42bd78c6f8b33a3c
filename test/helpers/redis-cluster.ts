/**
 * A real Redis Cluster for the cluster suites: three primaries started with the machine's
 * `redis-server` on free ports (in a temp folder, nothing saved), joined with
 * `redis-cli --cluster create`, and shut down after the file's tests. Fails (never skips)
 * when the binaries are missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedisCluster {
  /** A seed node's URL (`redis://127.0.0.1:PORT`). */
  readonly url: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function cli(args: string[]): string {
  const r = spawnSync('redis-cli', args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw new Error(`redis-cli: ${r.error.message} (install redis-tools / redis-server)`);
  return `${r.stdout}${r.stderr}`;
}

export async function startRedisCluster(primaries = 3): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'llmops-redis-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < primaries; i++) ports.push(await freePort());
  const servers: ChildProcess[] = ports.map((port) =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    ),
  );
  const close = async (): Promise<void> => {
    for (const s of servers) s.kill('SIGKILL');
    await Promise.all(servers.map((s) => (s.exitCode !== null || s.signalCode !== null ? undefined : new Promise((r) => s.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  // Listened to at once: a process's 'spawn' event comes on the next tick.
  const spawned = servers.map(
    (s) =>
      new Promise<void>((resolve, reject) => {
        s.once('spawn', resolve);
        s.once('error', (err) => reject(new Error(`redis-server: ${err.message} (install redis-server)`)));
      }),
  );
  try {
    await Promise.all(spawned);
    for (const port of ports) {
      const deadline = Date.now() + 10_000;
      while (!cli(['-p', String(port), 'ping']).includes('PONG')) {
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const created = cli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
    if (!created.includes('All 16384 slots covered')) throw new Error(`redis-cli --cluster create failed:\n${created}`);
    const deadline = Date.now() + 15_000;
    while (!ports.every((p) => cli(['-p', String(p), 'cluster', 'info']).includes('cluster_state:ok'))) {
      if (Date.now() > deadline) throw new Error('the Redis Cluster never reached cluster_state:ok');
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { url: `redis://127.0.0.1:${ports[0]}`, close };
}
