// The cluster project's setup: two local ClickHouse servers forming a cluster, for the whole run. If they cannot
// start, the run fails: cluster tests never skip. Each test file makes a database of its own, sharded over both
// (helpers/warehouse.ts).
import { startTestServer } from './helpers/local-server.js';

export const TEST_SHARDS = 2;

export default async function setup(): Promise<() => Promise<void>> {
  const cluster = await startTestServer('cluster', TEST_SHARDS);
  if (cluster.cluster === null) throw new Error('the local servers formed no cluster');
  // Names of its own: the server project's setup, in the same process, sets POLICYLENS_TEST_CLICKHOUSE_URL.
  process.env.POLICYLENS_TEST_CLUSTER_URL = cluster.url;
  process.env.POLICYLENS_TEST_CLUSTER_NODES = cluster.urls.join(',');
  process.env.POLICYLENS_TEST_CLUSTER_NAME = cluster.cluster;
  return () => cluster.dispose();
}
