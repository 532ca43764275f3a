// npm run bench:api — POST /v1/query under concurrent load on N simulated events (default 10M), over HTTP: a mix in
// which 80% of requests repeat one of 50 questions and 20% are new, and all-new (distinct) questions, at 10 and 50
// connections, with and without Parquet exports running back to back, and new questions that share nothing with any
// other ("novel", which day sums cannot answer), on the embedded engine and on a local ClickHouse server. The load comes from another process (bench/api-load.ts). Prints and saves requests/s, p50, p99.
// The embedded warehouse is the one `npm run bench:query -- N` builds and keeps (.policylens/bench-query-N); the
// server's copy of it is made once, with the engine's remote(), and kept in .policylens/bench-api-clickhouse-N.
// Usage: npm run bench:api -- [events=10000000] [--seconds 10] [--modes embedded,server]
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, type Config } from '../common/config.js';
import { startClickHouse, stopClickHouse } from '../devtools/clickhouse/local-clickhouse.js';
import { buildApp } from '../query/api/app.js';
import { createKeyRing } from '../common/api-keys.js';
import type { Warehouse } from '../warehouse/client.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { freePort } from '../test/helpers/local-server.js';
import { repeatedQuestions } from './api-questions.js';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const events = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith('--')) ?? 10_000_000);
const seconds = Number(opt('seconds') ?? 10);
const modes = (opt('modes') ?? 'embedded,server').split(',');
const dir = resolve(`.policylens/bench-query-${events}`);
const chDir = resolve(`.policylens/bench-api-clickhouse-${events}`);
const key = 'bench-admin-key-0123456789';
const TARGETS = { mix_50_rps: 1_000, mix_50_p99_ms: 100, distinct_10_with_export_p99_ms: 250 };

if (!existsSync(join(dir, 'loaded'))) {
  console.error(`No warehouse of ${events} events in ${dir}: run \`npm run bench:query -- ${events}\` first (it builds and keeps it).`);
  process.exit(1);
}

const env = {
  ...process.env,
  POLICYLENS_LOG_LEVEL: 'warn',
  POLICYLENS_EXPORT_SECRET: 'bench-secret-0123456789abcdef',
  POLICYLENS_EXPORT_TMP_DIR: resolve('.policylens'),
};
const embeddedConfig = loadConfig({ ...env, POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data') });

const SCENARIOS = [
  { connections: 10, repeat: 0.8, export: false },
  { connections: 50, repeat: 0.8, export: false },
  { connections: 10, repeat: 0, export: false },
  { connections: 50, repeat: 0, export: false },
  { connections: 10, repeat: 0.8, export: true },
  { connections: 50, repeat: 0.8, export: true },
  { connections: 10, repeat: 0, export: true },
  { connections: 50, repeat: 0, export: true },
  // New questions that share nothing with any other (bench/api-questions.ts): each takes a query of its own.
  { connections: 10, repeat: 0, export: false, novel: true },
  { connections: 50, repeat: 0.8, export: false, novel: true },
];

const run = promisify(execFile);

async function measure(config: Config, mode: string): Promise<Record<string, unknown>[]> {
  const ready = await openReadyWarehouse(config);
  const app = await buildApp({ config, wh: ready.wh, keys: createKeyRing([{ key, role: 'admin' }]), rateLimitPerMinute: 100_000_000 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const rows: Record<string, unknown>[] = [];
  try {
    for (const [i, s] of SCENARIOS.entries()) {
      // The repeated questions are the ones already asked: ask each once (a background merge may have moved the version).
      for (const q of repeatedQuestions()) {
        const r = await app.inject({ method: 'POST', url: '/v1/query', payload: q, headers: { authorization: `Bearer ${key}` } });
        if (r.statusCode !== 200) throw new Error(`/v1/query: ${r.statusCode} ${r.body.slice(0, 300)}`);
      }
      const argv = ['bin/run-ts.js', 'bench/api-load.ts', url, key, String(s.connections), String(seconds), String(s.repeat), String(i * 100_000)];
      const flags = [...(s.export ? ['--export'] : []), ...('novel' in s ? ['--novel'] : [])];
      const { stdout } = await run(process.execPath, [...argv, ...flags], { maxBuffer: 1 << 20 });
      const mix = `${s.repeat > 0 ? '80% repeated' : 'distinct'}${'novel' in s ? ', novel' : ''}`;
      const row = { mode, mix, ...JSON.parse(stdout.trim().split('\n').at(-1)!) };
      console.log(JSON.stringify(row));
      rows.push(row);
    }
  } finally {
    await app.close();
    await ready.wh.close();
  }
  return rows;
}

/** Copies the embedded warehouse's raw tables into the server (its views build the rollups), once. */
async function copyToServer(source: Warehouse, config: Config, tcpPort: number): Promise<void> {
  if (existsSync(join(chDir, 'loaded'))) return;
  const target = await openReadyWarehouse(config);
  await target.wh.close();
  const started = performance.now();
  // Sends first: the views pair each engagement and spam-risk event with a send already stored.
  for (const table of ['sends', 'engagements', 'subscriptions', 'event_ids']) {
    await source.client.command({
      query: `INSERT INTO FUNCTION remote('127.0.0.1:${tcpPort}', '${config.clickhouse.database}', '${table}', 'default', '') SELECT * FROM ${table}`,
    });
    console.error(`copied ${table} to the server (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  writeFileSync(join(chDir, 'loaded'), new Date().toISOString());
}

const results: Record<string, unknown>[] = [];
if (modes.includes('embedded')) results.push(...(await measure(embeddedConfig, 'embedded')));
if (modes.includes('server')) {
  const [httpPort, tcpPort] = [await freePort(), await freePort()];
  const ch = { dir: chDir, httpPort, tcpPort, exitWithCaller: true, log: (m: string) => console.error(`[clickhouse] ${m}`) };
  const status = await startClickHouse(ch);
  try {
    const serverConfig = loadConfig({ ...env, POLICYLENS_CLICKHOUSE_URL: status.url, POLICYLENS_CLICKHOUSE_DATABASE: 'policylens' });
    if (!existsSync(join(chDir, 'loaded'))) {
      const source = await openReadyWarehouse(embeddedConfig);
      try {
        await copyToServer(source.wh, serverConfig, tcpPort);
      } finally {
        await source.wh.close();
      }
    }
    results.push(...(await measure(serverConfig, 'server')));
  } finally {
    await stopClickHouse(ch);
  }
}

const find = (mode: string, connections: number, distinct: boolean, exporting: boolean) =>
  results.find((r) => r.mode === mode && !r.novel && r.connections === connections && (r.repeat_share === 0) === distinct && r.export_running === exporting) as
    | { requests_per_s: number; p99_ms: number }
    | undefined;
const verdicts = [...new Set(results.map((r) => r.mode as string))].map((mode) => {
  const mix = find(mode, 50, false, false);
  const distinct = find(mode, 10, true, true);
  return {
    mode,
    mix_50:
      mix &&
      `${mix.requests_per_s} requests/s, p99 ${mix.p99_ms} ms: ${mix.requests_per_s >= TARGETS.mix_50_rps && mix.p99_ms < TARGETS.mix_50_p99_ms ? 'met' : 'NOT met'}`,
    distinct_10_export: distinct && `p99 ${distinct.p99_ms} ms: ${distinct.p99_ms < TARGETS.distinct_10_with_export_p99_ms ? 'met' : 'NOT met'}`,
  };
});
console.log(JSON.stringify({ targets: TARGETS, verdicts }, null, 2));
writeFileSync(
  new URL(`./results/api-${events}.json`, import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), events, seconds, node: process.version, targets: TARGETS, verdicts, results }, null, 2)}\n`,
);
