/**
 * Starts a real gateway on port 0 for end-to-end tests: config from an object (as parsed
 * YAML), an in-memory SQLite store unless told otherwise, a fixed admin key.
 */
import { loadConfig } from '../../src/config/load.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger, type Logger } from '../../src/logger.js';

export const TEST_ADMIN_KEY = 'sk-llmops-admin-test-0123456789abcdef';

export interface TestGateway {
  url: string;
  gw: Gateway;
  adminKey: string;
  /** Lines the gateway logged (JSON strings). */
  logs: string[];
  /** What a reload reads next (as if the config file had been edited); the store section is filled in as at start. */
  setDocument(document: Record<string, unknown>): void;
  close(): Promise<void>;
}

export async function startTestGateway(document: Record<string, unknown>, opts: { env?: NodeJS.ProcessEnv; random?: () => number } = {}): Promise<TestGateway> {
  const withStore = (d: Record<string, unknown>) => ({ ...d, store: { url: 'sqlite::memory:', trace_flush_ms: 10, ...((d.store as object) ?? {}) } });
  let doc = withStore(document);
  const env = opts.env ?? {};
  const config = loadConfig({ document: doc, env });
  const logs: string[] = [];
  const log: Logger = createLogger('debug', (l) => void logs.push(l));
  const gw = createGateway({
    config,
    adminKey: TEST_ADMIN_KEY,
    log,
    loadConfig: () => loadConfig({ document: doc, env }),
    ...(opts.random ? { random: opts.random } : {}),
  });
  const url = await gw.listen(0, '127.0.0.1');
  return {
    url,
    gw,
    adminKey: TEST_ADMIN_KEY,
    logs,
    setDocument: (d) => {
      doc = withStore(d);
    },
    close: () => gw.close(),
  };
}

/** Waits until the trace writer has stored `n` traces (it writes in the background). */
export async function waitForTraces(gw: Gateway, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await gw.store.countTraces()) < n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} traces, have ${await gw.store.countTraces()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
