/**
 * Preloaded (`node --import`) into the benchmarked gateway as a watchdog: when the
 * orchestrator dies, even by SIGKILL, the gateway's stdin pipe reaches EOF and the gateway
 * gets SIGTERM (its own graceful shutdown). Nothing on the request path is touched. Worker
 * threads inherit `--import` and have their own (empty) stdin, so only the main thread watches.
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'));
  process.stdin.resume();
}
