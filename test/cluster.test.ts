// The warehouse sharded over a cluster of local ClickHouse servers (the `cluster` project): migrations applied on
// every server and a no-op the second time, rows spread by user over both shards with each user whole on one,
// deduplication that reaches the shards through a Distributed insert, the regime table on every server, and a
// shard down in the middle of a write.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { loadFile } from '../ingest/load-file.js';
import { simulateToFile, type Truth } from '../simulator/index.js';
import type { SendRow } from '../events/types.js';
import { openWarehouse, type TextInsert, type Warehouse } from '../warehouse/client.js';
import { LOCAL_SUFFIX } from '../warehouse/cluster.js';
import { migrate, readRegimes, reloadRegimes, replaceRegimes } from '../warehouse/migrate.js';
import { readEngineVersion } from '../warehouse/version.js';
import { rawInsert, rowLine } from '../warehouse/writer.js';
import { freePorts, startTestServer } from './helpers/local-server.js';
import { expectRollupsToMatchRaw, expectWarehouseToMatchTruth } from './helpers/truth.js';
import { dropTestDatabase, openTestWarehouse, testMode, type TestWarehouse } from './helpers/warehouse.js';

const rows = async <T>(client: ClickHouseClient, query: string): Promise<T[]> => (await client.query({ query, format: 'JSONEachRow' })).json<T>();

async function schemaOf(client: ClickHouseClient): Promise<string[]> {
  const tables = await rows<{ name: string; engine: string; create_table_query: string }>(
    client,
    'SELECT name, engine, create_table_query FROM system.tables WHERE database = currentDatabase() ORDER BY name',
  );
  return tables.map((t) => `${t.name} ${t.engine} ${t.create_table_query}`);
}

/** A block of `n` sends, each to a user of its own, as the writer inserts it under `token`. */
function sendsBlock(prefix: string, n: number, token: string): TextInsert {
  const rows: SendRow[] = Array.from({ length: n }, (_, i) => ({
    event_id: `${prefix}-${i}`,
    occurred_at: Date.UTC(2024, 2, 1 + (i % 5), 10),
    business_id: 'b1',
    user_id: `u-${prefix}-${i}`,
    channel: 'messenger',
    regime: null,
    category: 'marketing_message',
    frequency: null,
    topic: null,
    campaign_id: null,
    cost_usd: 0.01,
  }));
  return rawInsert('sends', [Buffer.from(rows.map((r) => `${rowLine('sends', r, 'marketing_messages')}\n`).join(''))], token);
}

const countOn = async (client: ClickHouseClient, table: string) => Number((await rows<{ n: string }>(client, `SELECT count() AS n FROM ${table}`))[0].n);

describe('a warehouse sharded over two servers', () => {
  let t: TestWarehouse;
  let servers: ClickHouseClient[];
  let truth: Truth;

  beforeAll(async () => {
    expect(testMode()).toBe('cluster');
    t = await openTestWarehouse();
    servers = t.wh.cluster!.servers;
    truth = await simulateToFile({ events: 40_000, seed: 5, badRatio: 0, dupRatio: 0.02, out: join(t.dir, 'sim.ndjson') });
    await loadFile(join(t.dir, 'sim.ndjson'), t.writer, { batchRows: 5_000 });
  });
  afterAll(async () => t?.dispose());

  it('has shard-local tables on every server, Distributed tables of the single-server names over them, and the regime table whole', async () => {
    expect(servers).toHaveLength(2);
    for (const server of servers) {
      const engines = new Map(
        (await rows<{ name: string; engine: string }>(server, 'SELECT name, engine FROM system.tables WHERE database = currentDatabase()')).map((r) => [
          r.name,
          r.engine,
        ]),
      );
      for (const table of ['sends', 'engagements', 'subscriptions', 'event_ids', 'send_metrics_daily', 'send_metrics_daily_coarse', 'spam_pairs']) {
        expect(engines.get(table), table).toBe('Distributed');
        expect(engines.get(`${table}${LOCAL_SUFFIX}`), table).toMatch(/MergeTree$/);
      }
      expect([engines.get('regimes'), engines.get('regimes_dict'), engines.get('send_metrics_sends_mv')]).toEqual([
        'MergeTree',
        'Dictionary',
        'MaterializedView',
      ]);
      expect(await countOn(server, 'regimes')).toBeGreaterThan(0);
    }
  });

  it('recovers the truth through the Distributed tables, and raw equals rollups on every shard', async () => {
    await expectWarehouseToMatchTruth(t.wh, truth);
  });

  it('spreads rows over both shards by user, each user whole on one shard', async () => {
    const users: Set<string>[] = [];
    for (const server of servers) {
      const sends = await countOn(server, `sends${LOCAL_SUFFIX}`);
      expect(sends).toBeGreaterThan(truth.counts.validByType.send * 0.3);
      const own = await rows<{ user_id: string }>(
        server,
        `SELECT DISTINCT user_id FROM (SELECT user_id FROM sends${LOCAL_SUFFIX} UNION ALL SELECT user_id FROM engagements${LOCAL_SUFFIX} UNION ALL SELECT user_id FROM subscriptions${LOCAL_SUFFIX})`,
      );
      users.push(new Set(own.map((r) => r.user_id)));
    }
    const both = [...users[0]].filter((u) => users[1].has(u));
    expect(both).toEqual([]);
  });

  it('applies migrations a second time as a no-op on every server', async () => {
    const before = await Promise.all(servers.map(schemaOf));
    const logged = await Promise.all(servers.map((s) => countOn(s, 'schema_migrations')));
    const again = await migrate(t.wh);
    expect(again.applied).toEqual([]);
    expect(await Promise.all(servers.map(schemaOf))).toEqual(before);
    expect(await Promise.all(servers.map((s) => countOn(s, 'schema_migrations')))).toEqual(logged);
    expect(logged[0]).toBeGreaterThan(0);
  });

  it('drops a block written again with its token on every shard, in the raw table and the rollups', async () => {
    const before = await Promise.all(servers.flatMap((s) => [countOn(s, `sends${LOCAL_SUFFIX}`), countOn(s, `send_metrics_daily${LOCAL_SUFFIX}`)]));
    const insert = () => t.wh.insertText(sendsBlock('dup', 200, 'cluster-test-block'));
    await insert();
    const once = await Promise.all(servers.flatMap((s) => [countOn(s, `sends${LOCAL_SUFFIX}`), countOn(s, `send_metrics_daily${LOCAL_SUFFIX}`)]));
    // Both shards got some of the block (the users differ), and the rollups grew with it.
    expect(once[0] - before[0]).toBeGreaterThan(0);
    expect(once[2] - before[2]).toBeGreaterThan(0);
    expect(once[0] - before[0] + (once[2] - before[2])).toBe(200);
    await insert();
    await insert();
    expect(await Promise.all(servers.flatMap((s) => [countOn(s, `sends${LOCAL_SUFFIX}`), countOn(s, `send_metrics_daily${LOCAL_SUFFIX}`)]))).toEqual(once);
    await expectRollupsToMatchRaw(t.wh);
  });

  it('moves the warehouse version when any shard is written, not only the one the API asks', async () => {
    const before = await readEngineVersion(t.wh);
    await servers[1].insert({ table: `event_ids${LOCAL_SUFFIX}`, values: [{ event_id: 'written-on-shard-2', family: 'sends' }], format: 'JSONEachRow' });
    expect(await readEngineVersion(t.wh)).not.toBe(before);
  });

  it('replaces the regime table on every server', async () => {
    const regimes = await readRegimes(t.wh);
    const changed = regimes.map((r) => (r.channel === 'whatsapp' ? { ...r, label: `${r.label} (edited)` } : r));
    await replaceRegimes(t.wh, changed);
    await reloadRegimes(t.wh);
    for (const server of servers) {
      const labels = await rows<{ label: string }>(server, "SELECT label FROM regimes WHERE channel = 'whatsapp'");
      expect(labels.length).toBeGreaterThan(0);
      expect(labels.every((l) => l.label.endsWith('(edited)'))).toBe(true);
    }
    await replaceRegimes(t.wh, regimes);
    await reloadRegimes(t.wh);
  });

  it('gives a server without a regime table (added later, or down when it was replaced) a copy of the table the others hold', async () => {
    const edited = (await readRegimes(t.wh)).map((r) => ({ ...r, label: `${r.label} (kept)` }));
    await replaceRegimes(t.wh, edited);
    await servers[1].command({ query: 'TRUNCATE TABLE regimes' });
    await migrate(t.wh);
    const labels = await rows<{ label: string }>(servers[1], 'SELECT label FROM regimes ORDER BY channel, start');
    expect(labels.map((l) => l.label)).toEqual(edited.map((r) => r.label));
    await replaceRegimes(
      t.wh,
      (await readRegimes(t.wh)).map((r) => ({ ...r, label: r.label.replace(' (kept)', '') })),
    );
    await reloadRegimes(t.wh);
  });
});

describe('a shard down in the middle of a write', () => {
  it('fails the write, and the same write with the same token after the shard is back lands exactly once', async () => {
    const cluster = await startTestServer('outage', 2);
    const config = loadConfig({
      POLICYLENS_CLICKHOUSE_URL: cluster.url,
      POLICYLENS_CLICKHOUSE_CLUSTER: cluster.cluster!,
      POLICYLENS_CLICKHOUSE_NODES: cluster.urls.join(','),
      POLICYLENS_CLICKHOUSE_DATABASE: 'outage',
    });
    let wh: Warehouse | null = null;
    try {
      wh = await openWarehouse(config);
      await migrate(wh);
      const insert = (w: Warehouse) => w.insertText(sendsBlock('down', 100, 'outage-block'));
      await cluster.stopShard(2);
      // Shard 1 (the entry server) may already hold its part of the block when shard 2 refuses the rest.
      await expect(insert(wh)).rejects.toThrow();
      await cluster.start();
      await insert(wh);
      await insert(wh);
      const servers = wh.cluster!.servers;
      const counts = await Promise.all(servers.map((s) => countOn(s, `sends${LOCAL_SUFFIX}`)));
      expect(counts[0] + counts[1]).toBe(100);
      expect(counts.every((n) => n > 0)).toBe(true);
      await expectRollupsToMatchRaw(wh);
    } finally {
      await wh?.close();
      await dropTestDatabase(config).catch(() => undefined);
      await cluster.dispose();
    }
  });
});

describe('npx policylens clickhouse start --shards 2', () => {
  const BIN = fileURLToPath(new URL('../bin/policylens.js', import.meta.url));
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });

  it('prints the settings that point every command at the cluster it started', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'policylens-cli-cluster-'));
    const [http, tcp] = [await freePorts(2), await freePorts(2)];
    try {
      const started = run(['clickhouse', 'start', '--shards', '2', '--dir', join(dir, 'ch'), '--http-port', String(http), '--tcp-port', String(tcp)]);
      expect(started.status, started.stderr).toBe(0);
      const settings = Object.fromEntries([...started.stdout.matchAll(/^export (POLICYLENS_\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
      expect(settings).toEqual({
        POLICYLENS_CLICKHOUSE_URL: `http://127.0.0.1:${http}`,
        POLICYLENS_CLICKHOUSE_CLUSTER: 'policylens',
        POLICYLENS_CLICKHOUSE_NODES: `http://127.0.0.1:${http},http://127.0.0.1:${http + 1}`,
      });
      const env = { ...process.env, ...settings, POLICYLENS_CLICKHOUSE_DATABASE: 'cli', POLICYLENS_DATA_DIR: join(dir, 'data') };
      const file = join(dir, 'sim.ndjson');
      expect(run(['simulate', '--events', '5000', '--seed', '3', '--out', file], env).status).toBe(0);
      const loaded = run(['load', file], env);
      expect(loaded.status, loaded.stderr).toBe(0);
      const summary = run(['summary'], env);
      expect(summary.status, summary.stderr).toBe(0);
      expect(summary.stdout).toMatch(/warehouse: \d+ sends/);
      const config = loadConfig(env);
      const wh = await openWarehouse(config);
      try {
        const counts = await Promise.all(wh.cluster!.servers.map((s) => countOn(s, `sends${LOCAL_SUFFIX}`)));
        expect(counts.every((n) => n > 0)).toBe(true);
        expect(summary.stdout).toContain(`warehouse: ${counts[0] + counts[1]} sends`);
      } finally {
        await wh.close();
      }
    } finally {
      run(['clickhouse', 'stop', '--dir', join(dir, 'ch')]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
