// The server project's setup: a local ClickHouse server of its own, at its default settings, for the whole run.
// If it cannot start, the run fails: server-mode tests never skip. Each test file makes a database of its own on
// it (helpers/warehouse.ts).
import { startTestServer } from './helpers/local-server.js';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await startTestServer('tests');
  process.env.POLICYLENS_TEST_CLICKHOUSE_URL = server.url;
  return () => server.dispose();
}
