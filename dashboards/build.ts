// Builds the dashboards site into a directory: every page for every variant (channel × period), a CSV per
// chart, the stylesheet and script, an index, and manifest.json (what was built, for tools and tests).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { JSDOM } from 'jsdom';
import { CSS, JS } from './assets.js';
import { toCsv } from './csv.js';
import { CHANNELS, addDays, collectExtent, collectRegimes, collectVariant, isoDay, type RegimeEntry, type Variant } from './data.js';
import { csvFile, pageFile, renderIndex, renderPage, type RenderedChart, type Site } from './page.js';
import { PAGES, pagesFor } from './pages.js';
import { cachingSource, type Source } from './source.js';

export interface Period {
  /** '' for the default period; otherwise a short name used in file names ([a-z0-9-]). */
  period: string;
  label: string;
  from?: string;
  to?: string;
}

export interface BuildOptions {
  source: Source;
  out: string;
  /** Range of the default period; by default the months with sends, found through the API. */
  from?: string;
  to?: string;
  /** Extra periods, each its own set of pages. */
  periods?: Period[];
  /** Channel variants; null is "all channels". Default: all, then each channel. */
  channels?: (string | null)[];
  minSends?: number;
  /** Regimes to use when the API has no /v1/regimes. */
  fallbackRegimes: () => RegimeEntry[];
  concurrency?: number;
  width?: number;
  now?: () => Date;
  log?: (line: string) => void;
}

export interface ManifestChart {
  id: string;
  title: string;
  rows: number;
  csv: string | null;
  error: string | null;
}

export interface Manifest {
  built_at: string;
  source: string;
  notes: string[];
  pages: { file: string; page: string; channel: string | null; period: string; from: string; to: string; charts: ManifestChart[] }[];
  timings_ms: { data: number; render: number; write: number; total: number };
  requests: { made: number; cached: number; ms: number };
}

export const DEFAULT_MIN_SENDS = 100;

/** Dates from 2010 (the contract's floor) are allowed; the API caps a range at 10 years. */
function defaultRange(now: Date): { from: string; to: string } {
  const to = isoDay(now.getTime());
  return { from: addDays(to, -3652), to };
}

export async function buildSite(opts: BuildOptions): Promise<Manifest> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  const t0 = performance.now();
  const builtAt = now();
  const src = cachingSource(opts.source, { concurrency: opts.concurrency ?? 4 });
  const minSends = opts.minSends ?? DEFAULT_MIN_SENDS;
  const notes: string[] = [];

  const { book, note } = await collectRegimes(src, opts.fallbackRegimes);
  if (note) notes.push(note);

  let from = opts.from;
  let to = opts.to;
  if (!from || !to) {
    const wide = defaultRange(builtAt);
    const extent = await collectExtent(src, from ?? wide.from, to ?? wide.to);
    if (!extent) notes.push(`The API did not give the range of the data; showing ${from ?? wide.from} to ${to ?? wide.to}.`);
    from ??= extent?.from ?? wide.from;
    to ??= extent?.to ?? wide.to;
  }
  const periods = [
    { period: '', label: 'Whole range', from, to },
    ...(opts.periods ?? []).map((p) => ({ period: p.period, label: p.label, from: p.from ?? from, to: p.to ?? to })),
  ];
  for (const p of periods) {
    if (p.period && !/^[a-z0-9-]{1,32}$/.test(p.period)) throw new Error(`period name ${JSON.stringify(p.period)}: use [a-z0-9-]`);
    if (!(p.from <= p.to)) throw new Error(`period ${p.label}: ${p.from} is after ${p.to}`);
  }
  const channels = opts.channels ?? [null, ...CHANNELS];
  const variants: Variant[] = periods.flatMap((p) => channels.map((channel) => ({ channel, from: p.from, to: p.to, period: p.period, periodLabel: p.label })));
  log(
    `dashboards: ${variants.length} variants (${channels.map((c) => c ?? 'all').join(', ')} × ${periods.length} period${periods.length === 1 ? '' : 's'}) from ${src.describe}`,
  );

  const data = await Promise.all(variants.map((v) => collectVariant(src, book, v, { minSends, now })));
  const tData = performance.now();

  const site: Site = { builtAt, source: src.describe, variants, channels, periods, notes };
  const { document } = new JSDOM('<!doctype html><html><body></body></html>').window;
  const files = new Map<string, string>();
  const manifest: Manifest = {
    built_at: builtAt.toISOString(),
    source: src.describe,
    notes,
    pages: [],
    timings_ms: { data: 0, render: 0, write: 0, total: 0 },
    requests: { made: 0, cached: 0, ms: 0 },
  };
  for (const d of data) {
    for (const page of pagesFor(d, { minSends, width: opts.width })) {
      const file = pageFile(page.slug, d.variant);
      const charts = page.charts.map((def) => {
        const rows = def.loaded.rows ?? [];
        const csvHref = csvFile(page.slug, d.variant, def.id);
        let chart: RenderedChart;
        if (rows.length) {
          const el = def.render(rows, document);
          const csv = toCsv(rows, def.columns);
          files.set(csvHref, csv);
          chart = { def, html: el.outerHTML, description: def.describe(rows), csv, rows: rows.length };
        } else {
          chart = { def, html: null, description: null, csv: null, rows: 0 };
        }
        return { chart, rows, csvHref, readAt: def.loaded.readAt };
      });
      files.set(file, renderPage(page, d.variant, site, charts));
      manifest.pages.push({
        file,
        page: page.slug,
        channel: d.variant.channel,
        period: d.variant.period,
        from: d.variant.from,
        to: d.variant.to,
        charts: charts.map(({ chart, csvHref }) => ({
          id: chart.def.id,
          title: chart.def.title,
          rows: chart.rows,
          csv: chart.csv === null ? null : csvHref,
          error: chart.def.loaded.error,
        })),
      });
      for (const c of charts) if (c.chart.def.loaded.error) log(`  ${file} ${c.chart.def.id}: ${c.chart.def.loaded.error}`);
    }
  }
  files.set('index.html', renderIndex(site, [...PAGES]));
  files.set('dashboards.css', CSS);
  files.set('dashboards.js', JS);
  const tRender = performance.now();

  // Files a previous build made and this one does not are removed; nothing else in the directory is touched.
  const manifestPath = join(opts.out, 'manifest.json');
  if (existsSync(manifestPath)) {
    try {
      const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: string[] };
      for (const f of old.files ?? []) if (!files.has(f) && !f.includes('..')) rmSync(join(opts.out, f), { force: true });
    } catch {
      // An unreadable old manifest: leave the old files.
    }
  }
  for (const [name, text] of files) {
    const path = join(opts.out, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  }
  const tWrite = performance.now();
  manifest.timings_ms = {
    data: Math.round(tData - t0),
    render: Math.round(tRender - tData),
    write: Math.round(tWrite - tRender),
    total: Math.round(tWrite - t0),
  };
  manifest.requests = { made: src.stats.requests, cached: src.stats.hits, ms: Math.round(src.stats.ms) };
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, files: [...files.keys()].sort() }, null, 2)}\n`);
  log(
    `dashboards: ${manifest.pages.length} pages, ${files.size} files in ${opts.out} (data ${manifest.timings_ms.data} ms, render ${manifest.timings_ms.render} ms, write ${manifest.timings_ms.write} ms; ${manifest.requests.made} API requests)`,
  );
  return manifest;
}
