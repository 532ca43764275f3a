// A fresh warehouse for one test: an embedded engine in its own directory, or, when the test run is in server mode
// (the `server` vitest project), a database of its own on the local ClickHouse server the global setup started, or
// in cluster mode (the `cluster` project) a database of its own sharded over the local 2-server cluster.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { loadConfig, type Config } from '../../common/config.js';
import { openReadyWarehouse, type ReadyWarehouse } from '../../warehouse/open.js';

export type WarehouseMode = 'embedded' | 'server' | 'cluster';

/** Which warehouse this test run uses; set per vitest project (vitest.config.ts). */
export function testMode(): WarehouseMode {
  const mode = process.env.POLICYLENS_TEST_WAREHOUSE;
  return mode === 'server' || mode === 'cluster' ? mode : 'embedded';
}

// The server and cluster projects' global setups run in one process and both hand their servers to the test
// processes through its environment, so each has variables of its own (a shared name would be whichever ran last).
function serverUrl(): string {
  const name = testMode() === 'cluster' ? 'POLICYLENS_TEST_CLUSTER_URL' : 'POLICYLENS_TEST_CLICKHOUSE_URL';
  const url = process.env[name];
  if (!url) throw new Error(`${name} is not set: the ${testMode()} project's global setup should have started the server`);
  return url;
}

export interface TestWarehouse extends ReadyWarehouse {
  dir: string;
  config: Config;
  /** The settings a child process needs to open this same warehouse. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** The environment naming a fresh warehouse (not opened yet): a data directory, or a server database of its own. */
export function freshWarehouseEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = { POLICYLENS_DATA_DIR: join(dir, 'data'), POLICYLENS_CLICKHOUSE_URL: '' };
  if (testMode() !== 'embedded') {
    env.POLICYLENS_CLICKHOUSE_URL = serverUrl();
    env.POLICYLENS_CLICKHOUSE_DATABASE = `t_${randomBytes(6).toString('hex')}`;
  }
  if (testMode() === 'cluster') {
    const [cluster, nodes] = [process.env.POLICYLENS_TEST_CLUSTER_NAME, process.env.POLICYLENS_TEST_CLUSTER_NODES];
    if (!cluster || !nodes) throw new Error("POLICYLENS_TEST_CLUSTER_NAME/_NODES are not set: the cluster project's global setup should have started it");
    Object.assign(env, { POLICYLENS_CLICKHOUSE_CLUSTER: cluster, POLICYLENS_CLICKHOUSE_NODES: nodes });
  }
  return env;
}

/** Drops a test's server database (on every server of a cluster); nothing to do for an embedded one (its directory goes). */
export async function dropTestDatabase(config: Config): Promise<void> {
  if (!config.clickhouse.url) return;
  const urls = config.clickhouse.nodes.length > 0 ? config.clickhouse.nodes : [config.clickhouse.url];
  for (const url of urls) {
    const client = createClient({ url, username: config.clickhouse.user, password: config.clickhouse.password });
    try {
      await client.command({ query: `DROP DATABASE IF EXISTS ${config.clickhouse.database} SYNC` });
    } finally {
      await client.close();
    }
  }
}

/** A fresh warehouse, migrated and ready, in the run's mode. */
export async function openTestWarehouse(env: Record<string, string> = {}): Promise<TestWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'policylens-test-'));
  const own = { ...freshWarehouseEnv(dir), ...env };
  const config = loadConfig({ ...process.env, ...own });
  const ready = await openReadyWarehouse(config);
  return {
    ...ready,
    dir,
    config,
    env: own,
    async dispose() {
      await ready.wh.close();
      await dropTestDatabase(config);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
