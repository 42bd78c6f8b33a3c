/**
 * A TCP relay in front of a real server (Redis, PostgreSQL) that a test can cut or silence:
 * `down()` closes every relayed connection and stops accepting, `up()` accepts again on the
 * same port, `stall(true)` holds everything both ways with the connections open (new ones
 * too): a server on a host gone dark.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpRelay {
  /** The local port clients connect to (the same across down/up). */
  readonly port: number;
  up(): Promise<void>;
  down(): Promise<void>;
  stall(on: boolean): void;
  readonly listening: boolean;
}

export async function startRelay(host: string, targetPort: number): Promise<TcpRelay> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  let stalled = false;
  const up = async (): Promise<void> => {
    server = createServer((client) => {
      const upstream = connect(targetPort, host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s)).on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      if (stalled) for (const s of [client, upstream]) s.pause(); // after pipe(), which resumes
    });
    const srv = server;
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    port = (srv.address() as { port: number }).port;
  };
  await up();
  return {
    get port() {
      return port;
    },
    get listening() {
      return server?.listening ?? false;
    },
    up,
    async down() {
      for (const s of sockets) s.destroy();
      const srv = server;
      if (srv) await new Promise<void>((r) => srv.close(() => r()));
    },
    stall(on) {
      stalled = on;
      for (const s of sockets) {
        if (on) s.pause();
        else s.resume();
      }
    },
  };
}
