/**
 * How the benchmark's helper servers (mock upstream, floor proxy) run as child processes:
 * listen, print `{"event":"listening","port":N}` on stdout for the orchestrator, and stop on
 * SIGTERM/SIGINT or when stdin (a pipe from the orchestrator) closes, so none outlives it.
 */
import type { Server } from 'node:http';

export function serveAsChild(server: Server, port: number, host: string): void {
  server.listen(port, host, () => {
    const addr = server.address();
    const listening = typeof addr === 'object' && addr ? addr.port : 0;
    process.stdout.write(`${JSON.stringify({ event: 'listening', port: listening })}\n`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
}
