/** Structured one-line JSON logs to stderr, with levels. Errors are logged with their cause chain, never sent to clients. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Writes to stderr unless it is gone (see `guardStdio`). */
function writeStderr(line: string): void {
  if (!process.stderr.destroyed) process.stderr.write(line);
}

let stdioGuarded = false;

/**
 * Keeps a closed stdout or stderr (EPIPE: whatever read the pipe went away, say a log shipper
 * or `llmops serve | head`) from becoming an uncaught exception. Unguarded, that exception is
 * logged to stderr, which fails the same way, and the process spins on the loop instead of
 * serving or shutting down. Guarded, the broken stream is destroyed and what was meant for it
 * is dropped; the gateway goes on. Call once, before the first write.
 */
export function guardStdio(): void {
  if (stdioGuarded) return;
  stdioGuarded = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => stream.destroy());
}

/** Writes to stdout unless it is gone (see `guardStdio`). */
export function writeStdout(text: string): void {
  if (!process.stdout.destroyed) process.stdout.write(text);
}

export function createLogger(level: LogLevel, write: (line: string) => void = writeStderr): Logger {
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[lvl] < min) return;
    const rec: Record<string, unknown> = { time: new Date().toISOString(), level: lvl, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) rec[k] = k === 'err' ? serializeError(v) : v;
    write(`${JSON.stringify(rec)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
