// Time to build every dashboard page. Not a test: prints a JSON report and writes bench/results/dashboards-N.json.
//   node bin/run-ts.js bench/dashboards.ts [events=1000000] [--keep DIR] [--skip-warehouse]
// 1. from the recorded fixtures (rendering and writing only; the API answers from memory);
// 2. from a simulated warehouse of N events through the API in-process (buildApp + inject), as
//    `policylens dashboards build` does: simulate, load, then build every variant (all channels and each one).
// The target is ≤ 10 s from 10M events.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../common/config.js';
import { buildSite, type Manifest } from '../dashboards/build.js';
import { injectSource } from '../dashboards/source.js';
import { loadFile } from '../ingest/load-file.js';
import { createKeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { simulateToFile } from '../simulator/index.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { loadDefaultRegimes } from '../warehouse/regimes.js';
import { buildFromFixtures } from '../test/fixtures/dashboards/fixture-build.js';

const args = process.argv.slice(2);
const events = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const keepAt = args.indexOf('--keep');
const keep = keepAt >= 0 ? resolve(args[keepAt + 1]) : null;
const skipWarehouse = args.includes('--skip-warehouse');

const summary = (m: Manifest) => ({
  seconds: m.timings_ms.total / 1000,
  data_s: m.timings_ms.data / 1000,
  render_s: m.timings_ms.render / 1000,
  write_s: m.timings_ms.write / 1000,
  pages: m.pages.length,
  charts: m.pages.reduce((a, p) => a + p.charts.length, 0),
  charts_without_data: m.pages.flatMap((p) => p.charts.filter((c) => c.error).map((c) => `${p.file}#${c.id}: ${c.error}`)),
  api_requests: m.requests.made,
  api_ms: m.requests.ms,
});

const result: Record<string, unknown> = { date: new Date().toISOString(), node: process.version };

// 1. Fixtures: three runs, the median.
const fixtureRuns: Manifest[] = [];
for (let i = 0; i < 3; i++) {
  const out = mkdtempSync(join(tmpdir(), 'policylens-bench-dash-'));
  fixtureRuns.push(await buildFromFixtures(out));
  rmSync(out, { recursive: true, force: true });
}
fixtureRuns.sort((a, b) => a.timings_ms.total - b.timings_ms.total);
result.fixtures = summary(fixtureRuns[1]);

// 2. A simulated warehouse through the API in-process.
if (!skipWarehouse) {
  const dir = mkdtempSync(join(tmpdir(), 'policylens-bench-dashwh-'));
  try {
    const file = join(dir, 'events.ndjson');
    let t = performance.now();
    await simulateToFile({ events, seed: 7, out: file });
    const simulateS = (performance.now() - t) / 1000;
    const config = loadConfig({ ...process.env, POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data') });
    const ready = await openReadyWarehouse(config);
    t = performance.now();
    const load = await loadFile(file, ready.writer, { batchRows: config.ingest.batchMaxRows });
    const loadS = (performance.now() - t) / 1000;
    rmSync(file);
    const key = 'bench-dashboards-admin-key-0123456789';
    const app = await buildApp({ config, wh: ready.wh, keys: createKeyRing([{ key, role: 'admin' }]), rateLimitPerMinute: 1_000_000 });
    const out = keep ?? join(dir, 'site');
    const manifest = await buildSite({ source: injectSource(app, key), out, fallbackRegimes: loadDefaultRegimes, log: (l) => console.error(l) });
    await app.close();
    await ready.wh.close();
    result.warehouse = { events, loaded: load.loaded, simulate_s: simulateS, load_s: loadS, build: summary(manifest), site: keep };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
result.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);

console.log(JSON.stringify(result, null, 2));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/dashboards-${skipWarehouse ? 'fixtures' : events}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
