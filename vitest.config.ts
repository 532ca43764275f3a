import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests that open a warehouse run twice: on the embedded engine and on a local ClickHouse server. The rest (parsers,
// statistics, the simulator, snapshots) do not depend on where the data lives and run once. Which files open a
// warehouse is read from their imports, so a new test is never left out of server mode by a list nobody updated.
const OPENS_A_WAREHOUSE = /from '\.\/helpers\/(warehouse|api)\.js'/;
const TEST_DIR = fileURLToPath(new URL('./test/', import.meta.url));
const WAREHOUSE_TESTS = readdirSync(TEST_DIR)
  .filter((f) => f.endsWith('.test.ts') && OPENS_A_WAREHOUSE.test(readFileSync(join(TEST_DIR, f), 'utf8')))
  .map((f) => `test/${f}`);

// Runs only against a server: several processes share one warehouse, which the embedded engine cannot do.
const SERVER_ONLY = ['test/scale-out.test.ts', 'test/server-outage.test.ts', 'test/server-errors.test.ts'];

// Run against a local two-server cluster (docs/operations.md): the truth tests, several ingest processes killed
// and restarted, the API, exports and dashboards reading through the Distributed tables, and the cluster's own
// layout, migrations and failure cases. (Frontier, retention, policy impact and kafka-e2e pass there too;
// they are left out to keep the suite's time.)
const CLUSTER = [
  'test/cluster.test.ts',
  'test/load-truth.test.ts',
  'test/query-truth.test.ts',
  'test/scale-out.test.ts',
  'test/exports.test.ts',
  'test/regimes-api.test.ts',
  'test/query-api.test.ts',
  'test/dashboards-data.test.ts',
  'test/query-conveniences.test.ts',
  'test/answer-cache.test.ts',
  'test/writer-rebuild.test.ts',
  'test/day-sums.test.ts',
];

const shared = {
  // The embedded engine allows one data directory per process, so every test file gets its own process.
  pool: 'forks' as const,
  testTimeout: 180_000,
  hookTimeout: 180_000,
  // kafkajs's negative-timeout warning says nothing to a reader of test output (bin/quiet-kafkajs.js says why).
  setupFiles: ['bin/quiet-kafkajs.js'],
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
          exclude: [...SERVER_ONLY, 'test/cluster.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          env: { POLICYLENS_TEST_WAREHOUSE: 'embedded' },
        },
      },
      {
        test: {
          ...shared,
          name: 'server',
          include: [...new Set([...WAREHOUSE_TESTS, ...SERVER_ONLY])],
          exclude: ['test/cluster.test.ts'],
          globalSetup: ['test/global-setup.ts', 'test/server-setup.ts'],
          env: { POLICYLENS_TEST_WAREHOUSE: 'server' },
        },
      },
      {
        test: {
          ...shared,
          name: 'cluster',
          include: CLUSTER,
          globalSetup: ['test/global-setup.ts', 'test/cluster-setup.ts'],
          env: { POLICYLENS_TEST_WAREHOUSE: 'cluster' },
        },
      },
    ],
  },
});
