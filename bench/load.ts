// npm run bench:load — simulate N events to a file, load them, and compare with the engine's own file ingest.
// Usage: npm run bench:load -- [events=1000000]
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../common/config.js';
import { loadFile } from '../ingest/load-file.js';
import { simulateToFile } from '../simulator/index.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { rawCounts } from '../warehouse/summary.js';
import { engineFileRate } from './engine-file-rate.js';

const events = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'policylens-bench-load-'));
const file = join(dir, 'events.ndjson');
try {
  const t = performance.now();
  // No bad lines: the engine's parallel NDJSON parser stops at malformed JSON, and both must read the same file.
  const truth = await simulateToFile({ events, seed: 7, badRatio: 0, dupRatio: 0.01, out: file });
  const simulateSeconds = (performance.now() - t) / 1000;

  const config = loadConfig({ ...process.env, POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data') });
  const { wh, writer } = await openReadyWarehouse(config);
  const load = await loadFile(file, writer, { batchRows: config.ingest.batchMaxRows });
  const reload = await loadFile(file, writer, { batchRows: config.ingest.batchMaxRows });
  const counts = await rawCounts(wh);
  const engine = await engineFileRate(wh, file);
  await wh.close();

  const lines = truth.counts.lines;
  const result = {
    date: new Date().toISOString(),
    events,
    lines,
    simulate: { seconds: simulateSeconds, lines_per_s: Math.round(lines / simulateSeconds) },
    load: { seconds: load.seconds, lines_per_s: Math.round(lines / load.seconds), loaded: load.loaded, duplicates: load.duplicates, rejected: load.rejected },
    reload: { seconds: reload.seconds, lines_per_s: Math.round(lines / reload.seconds), loaded: reload.loaded },
    engine_file_insert: { seconds: engine.seconds, rows_per_s: Math.round(engine.rate) },
    load_vs_engine: +(lines / load.seconds / engine.rate).toFixed(3),
    counts_match_truth: counts.sends === truth.counts.validByType.send && load.loaded === truth.counts.valid,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`./results/load-${events}.json`, import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
