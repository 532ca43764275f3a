// `policylens dashboards build [--out DIR] [--api URL] [--key KEY] [--from D --to D] [--period NAME=FROM..TO]…
//  [--channels all,messenger,…] [--min-sends N] [--fixtures DIR]`
// Builds the static dashboards. The numbers come from the HTTP API: over the network with --api (key from
// --key or POLICYLENS_API_KEY), else in-process: this process opens the warehouse, builds the API app with a
// key made up for the run and asks it through inject(), so the pages use exactly the API's definitions.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { buildSite, DEFAULT_MIN_SENDS, type Period } from '../dashboards/build.js';
import { CHANNELS } from '../dashboards/data.js';
import { fixtureSource, httpSource, injectSource, readExchanges, type Source } from '../dashboards/source.js';
import { loadDefaultRegimes } from '../warehouse/regimes.js';
import { positiveInt, UsageError } from './usage-error.js';

export const DASHBOARDS_USAGE = `usage: policylens dashboards build [options]

  --out DIR            where to write the site (default: POLICYLENS_DASHBOARDS_DIR, else .policylens/dashboards;
                       \`serve\` serves that directory at /dashboards/)
  --api URL            read from a running API (key: --key or POLICYLENS_API_KEY, role with "query");
                       default: in-process, opening the warehouse (POLICYLENS_DATA_DIR / _CLICKHOUSE_URL)
  --from D --to D      the date range (YYYY-MM-DD); default: the months with sends
  --period NAME=FROM..TO
                       an extra pre-rendered period (repeatable), e.g. --period 2025=2025-01-01..2025-12-31
  --channels LIST      channel variants, comma-separated, "all" for every channel together
                       (default: all,messenger,instagram,whatsapp)
  --min-sends N        leave businesses with fewer sends in a regime and frequency off the scatter (default ${DEFAULT_MIN_SENDS})
  --fixtures DIR       read recorded API exchanges (api-*.json) instead of an API`;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function day(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  if (!DAY.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new UsageError(`--${name} must be a date YYYY-MM-DD, got ${JSON.stringify(v)}`);
  return v;
}

function periodOf(spec: string): Period {
  const m = /^([a-z0-9-]{1,32})=(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/.exec(spec);
  if (!m) throw new UsageError(`--period must be NAME=FROM..TO with NAME of [a-z0-9-], got ${JSON.stringify(spec)}`);
  return { period: m[1], label: m[1], from: day('period', m[2]), to: day('period', m[3]) };
}

function channelsOf(spec: string | undefined): (string | null)[] | undefined {
  if (spec === undefined) return undefined;
  const list = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const c of list)
    if (c !== 'all' && !(CHANNELS as readonly string[]).includes(c)) throw new UsageError(`--channels: unknown channel ${JSON.stringify(c)}`);
  if (!list.length) throw new UsageError('--channels needs at least one channel');
  return list.map((c) => (c === 'all' ? null : c));
}

export async function runDashboards(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'build') {
    console.log(DASHBOARDS_USAGE);
    return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      api: { type: 'string' },
      key: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      period: { type: 'string', multiple: true },
      channels: { type: 'string' },
      'min-sends': { type: 'string' },
      fixtures: { type: 'string' },
    },
  });
  const config = loadConfig();
  const out = resolve(values.out ?? config.dashboards.dir);
  const from = day('from', values.from);
  const to = day('to', values.to);
  if (from && to && from > to) throw new UsageError('--from is after --to');
  const common = {
    out,
    from,
    to,
    periods: (values.period ?? []).map(periodOf),
    channels: channelsOf(values.channels),
    minSends: values['min-sends'] === undefined ? undefined : positiveInt('min-sends', values['min-sends']),
    fallbackRegimes: loadDefaultRegimes,
    log: (line: string) => console.log(line),
  };

  const report = (m: Awaited<ReturnType<typeof buildSite>>) => {
    const failed = m.pages.flatMap((p) => p.charts.filter((c) => c.error).map((c) => `${p.file}#${c.id}`));
    console.log(`dashboards written to ${out} (index.html); ${m.pages.length} pages in ${(m.timings_ms.total / 1000).toFixed(1)} s`);
    if (failed.length) console.log(`${failed.length} charts have no data because the API answered with an error (see the lines above and the pages).`);
    return 0;
  };

  if (values.fixtures) {
    const dir = resolve(values.fixtures);
    const files = readdirSync(dir)
      .filter((f) => /^api-[a-z-]+\.json$/.test(f))
      .map((f) => join(dir, f));
    if (!files.length) throw new UsageError(`no api-*.json files in ${dir}`);
    return report(await buildSite({ ...common, source: fixtureSource(readExchanges(files), `fixtures in ${dir}`) }));
  }
  if (values.api) {
    let url: URL;
    try {
      url = new URL(values.api);
    } catch {
      throw new UsageError(`--api must be a URL, got ${JSON.stringify(values.api)}`);
    }
    const source: Source = httpSource(url.toString(), values.key ?? config.dashboards.apiKey);
    return report(await buildSite({ ...common, source }));
  }

  // In-process: the same app `serve` runs, with an admin key that exists only in this process.
  const [{ buildApp }, { createKeyRing }, { openReadyWarehouse }] = await Promise.all([
    import('../query/api/app.js'),
    import('../common/api-keys.js'),
    import('../warehouse/open.js'),
  ]);
  const ready = await openReadyWarehouse(config);
  const key = randomBytes(24).toString('base64url');
  const app = await buildApp({ config, wh: ready.wh, keys: createKeyRing([{ key, role: 'admin' }]), rateLimitPerMinute: 1_000_000 });
  try {
    return report(await buildSite({ ...common, source: injectSource(app, key) }));
  } finally {
    await app.close();
    await ready.wh.close();
  }
}
