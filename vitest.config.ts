import { defineConfig } from 'vitest/config';

// Tests that open a warehouse run twice: on the embedded engine and on a local ClickHouse server. The rest (parsers,
// statistics, the simulator, snapshots) do not depend on where the data lives and run once.
const WAREHOUSE_TESTS = [
  'api-basics', 'auth-matrix', 'dashboards-browser', 'dashboards-data', 'dashboards-route', 'exports-cli', 'exports-memory',
  'exports', 'frontier', 'kafka-crash', 'kafka-e2e', 'kafka-outage', 'kafka-poison', 'kafka-rebalance', 'kafka-rebuild',
  'load-truth', 'policy-impact', 'query-api', 'query-metrics', 'query-migration', 'query-truth', 'regimes-api', 'retention',
  'warehouse', 'server-outage', 'server-errors', 'scale-out',
].map((name) => `test/${name}.test.ts`);

// Runs only against a server: several processes share one warehouse, which the embedded engine cannot do.
const SERVER_ONLY = ['test/scale-out.test.ts', 'test/server-outage.test.ts', 'test/server-errors.test.ts'];

const shared = {
  // The embedded engine allows one data directory per process, so every test file gets its own process.
  pool: 'forks' as const,
  testTimeout: 180_000,
  hookTimeout: 180_000,
};

export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        test: {
          ...shared,
          name: 'embedded',
          include: ['test/**/*.test.ts'],
          exclude: SERVER_ONLY,
          globalSetup: ['test/global-setup.ts'],
          env: { POLICYLENS_TEST_WAREHOUSE: 'embedded' },
        },
      },
      {
        test: {
          ...shared,
          name: 'server',
          include: WAREHOUSE_TESTS,
          globalSetup: ['test/global-setup.ts', 'test/server-setup.ts'],
          env: { POLICYLENS_TEST_WAREHOUSE: 'server' },
        },
      },
    ],
  },
});
