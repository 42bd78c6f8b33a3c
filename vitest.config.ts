import { defineConfig } from 'vitest/config';

// The PostgreSQL and Redis suites talk to real servers. Without these variables they use the
// local default ports; a server that is not there makes those suites fail, never skip.
process.env.LLMOPS_TEST_POSTGRES_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
process.env.LLMOPS_TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
