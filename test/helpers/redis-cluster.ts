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
  /** Each primary's port, in the order they were started. */
  readonly ports: readonly number[];
  /** Kills primary `i` (SIGKILL: an outage, not a shutdown). */
  kill(i: number): Promise<void>;
  /** Starts primary `i` again on its port; it rejoins with its saved cluster config. */
  restart(i: number): Promise<void>;
  /** Stops (SIGSTOP) or resumes (SIGCONT) primary `i`: connections stay open, nothing answers. */
  silence(i: number, on: boolean): void;
  close(): Promise<void>;
}

export interface RedisClusterOptions {
  primaries?: number;
  /** `cluster-node-timeout`: how long before the others mark a silent node failed (Redis' default 15000). */
  nodeTimeoutMs?: number;
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

export async function startRedisCluster({ primaries = 3, nodeTimeoutMs = 15_000 }: RedisClusterOptions = {}): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'llmops-redis-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < primaries; i++) ports.push(await freePort());
  const serve = (port: number): ChildProcess =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
        '--cluster-node-timeout', String(nodeTimeoutMs), '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
  const servers: ChildProcess[] = ports.map(serve);
  const stop = async (s: ChildProcess): Promise<void> => {
    if (s.exitCode !== null || s.signalCode !== null) return;
    const exited = new Promise((r) => s.once('exit', r));
    s.kill('SIGKILL');
    await exited;
  };
  const close = async (): Promise<void> => {
    await Promise.all(servers.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  const pong = async (port: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!cli(['-p', String(port), 'ping']).includes('PONG')) {
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
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
    for (const port of ports) await pong(port);
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
  return {
    url: `redis://127.0.0.1:${ports[0]}`,
    ports,
    kill: (i) => stop(servers[i]!),
    silence: (i, on) => void servers[i]!.kill(on ? 'SIGSTOP' : 'SIGCONT'),
    async restart(i) {
      servers[i] = serve(ports[i]!);
      await pong(ports[i]!);
    },
    close,
  };
}
