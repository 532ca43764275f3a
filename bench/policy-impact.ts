// npm run bench:policy-impact — latency of GET /v1/policy-impact per method on the warehouse npm run bench:query
// loads (N simulated events, default 10M, kept in .policylens/bench-query-N). Results in docs/performance.md.
// Usage: npm run bench:policy-impact -- [events=10000000] [runs=30]
import { existsSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../common/config.js';
import { createKeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { openReadyWarehouse } from '../warehouse/open.js';

const events = Number(process.argv[2] ?? 10_000_000);
const runs = Number(process.argv[3] ?? 30);
const dir = resolve(`.policylens/bench-query-${events}`);
if (!existsSync(join(dir, 'loaded'))) throw new Error(`${dir} is not loaded: run npm run bench:query -- ${events} first`);
// The answer cache is off: these runs time computing an answer, and they repeat the same requests.
const config = loadConfig({ ...process.env, POLICYLENS_ANSWER_CACHE_ENTRIES: '0', POLICYLENS_CLICKHOUSE_URL: '', POLICYLENS_DATA_DIR: join(dir, 'data') });

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const ready = await openReadyWarehouse(config);
const key = 'bench-admin-key-0123456789';
const app = await buildApp({ config, wh: ready.wh, keys: createKeyRing([{ key, role: 'admin' }]), rateLimitPerMinute: 1_000_000 });

async function time(url: string): Promise<{ p50: number; p95: number; url: string }> {
  const get = async () => {
    const r = await app.inject({ url, headers: { authorization: `Bearer ${key}` } });
    if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body.slice(0, 300)}`);
  };
  for (let i = 0; i < 2; i++) await get(); // warm caches and the JIT
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await get();
    ms.push(performance.now() - t);
  }
  return { p50: +percentile(ms, 50).toFixed(1), p95: +percentile(ms, 95).toFixed(1), url };
}

const base = '/v1/policy-impact?metric=opt_outs_per_1k';
const result = {
  date: new Date().toISOString(),
  events,
  runs,
  // The machine is shared: the load average says how much (2 cores).
  load_average_before: loadavg().map((x) => +x.toFixed(1)),
  // The request bench/query.ts times (one control, no placebos: what /v1/policy-impact did before it had methods),
  // as the yardstick for how loaded the machine is during this run.
  did_90_days_one_control_no_placebos: await time(`${base}&treated=whatsapp&control=messenger&change=2022-02-01&placebos=0`),
  // WhatsApp's conversation pricing, Messenger and Instagram as controls, 19 placebo boundaries (the defaults).
  event_study_90_days: await time(`${base}&change=2022-02-01&method=event_study`),
  event_study_90_days_no_placebos: await time(`${base}&change=2022-02-01&method=event_study&placebos=0`),
  // 2025-07-01 changes every channel: the default is an interrupted time series.
  its_90_days_all_channels: await time(`${base}&change=2025-07-01`),
  its_90_days_all_channels_no_placebos: await time(`${base}&change=2025-07-01&placebos=0`),
  did_90_days: await time(`${base}&change=2022-02-01&method=did`),
  event_study_365_days: await time(`${base}&change=2022-02-01&control=messenger&method=event_study&window_days=365`),
  staggered_90_days: await time(`${base}&change=whatsapp_conversation_pricing,recurring_all_frequencies&method=staggered`),
};
const out = { ...result, load_average_after: loadavg().map((x) => +x.toFixed(1)) };
console.log(JSON.stringify(out, null, 2));
writeFileSync(new URL(`./results/policy-impact-${events}.json`, import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
await app.close();
await ready.wh.close();
