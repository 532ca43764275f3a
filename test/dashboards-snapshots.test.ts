// Every dashboard chart drawn from the recorded fixtures and compared with its snapshot in
// test/__snapshots__/dashboards/, after the normalisation Plot's own suite applies (numbers to 3 decimals,
// generated class names and ids renumbered). A missing snapshot is written (and said); a different one
// is written beside it as NAME.changed.svg (or .html) and the test fails. Under CI=true a missing snapshot
// fails too: commit the snapshots.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSDOM } from 'jsdom';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeFrequency, frequencyChart } from '../dashboards/charts/frequency.js';
import { collectRegimes, collectVariant, frequencyQueryRows, queryResults, requests, type Variant, type VariantData } from '../dashboards/data.js';
import { pagesFor } from '../dashboards/pages.js';
import { loadDefaultRegimes } from '../warehouse/regimes.js';
import { COMPARED_VARIANT, FIXTURE_NOW, recordedSource } from './fixtures/dashboards/fixture-build.js';

const SNAPSHOTS = fileURLToPath(new URL('./__snapshots__/dashboards/', import.meta.url));
const RANGE = { from: '2019-01-01', to: '2026-10-31' };

/** Plot's snapshot normalisation: stable class names, clip and marker ids, 3-decimal numbers, one tag a line. */
function normalise(root: Element): string {
  for (const svg of root.tagName.toLowerCase() === 'svg' ? [root] : [...root.querySelectorAll('svg')]) {
    svg.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  }
  let html = root.outerHTML;
  const classes = new Map<string, string>();
  html = html.replace(/\bplot-[0-9a-f]{6}\b/g, (m) => {
    if (!classes.has(m)) classes.set(m, classes.size ? `plot-${classes.size + 1}` : 'plot');
    return classes.get(m)!;
  });
  for (const kind of ['clip', 'marker', 'pattern', 'gradient']) {
    const ids = new Map<string, string>();
    html = html.replace(new RegExp(`plot-${kind}-\\d+`, 'g'), (m) => {
      if (!ids.has(m)) ids.set(m, `plot-${kind}-${ids.size + 1}`);
      return ids.get(m)!;
    });
  }
  html = html.replace(/-?\d*\.\d+(?:e[-+]?\d+)?/g, (m) => {
    const n = Number(m);
    if (!Number.isFinite(n)) return m;
    const r = Number(n.toFixed(3));
    return String(Object.is(r, -0) ? 0 : r);
  });
  return `${html.replace(/></g, '>\n<')}\n`;
}

function compare(name: string, ext: 'svg' | 'html', actual: string): void {
  mkdirSync(SNAPSHOTS, { recursive: true });
  const file = join(SNAPSHOTS, `${name}.${ext}`);
  const changed = join(SNAPSHOTS, `${name}.changed.${ext}`);
  if (!existsSync(file)) {
    if (process.env.CI === 'true') throw new Error(`missing snapshot ${file}: run the test outside CI to write it, then commit it`);
    writeFileSync(file, actual);
    console.warn(`! wrote new snapshot ${file}`);
    return;
  }
  const expected = readFileSync(file, 'utf8');
  if (actual === expected) {
    rmSync(changed, { force: true });
    return;
  }
  writeFileSync(changed, actual);
  console.warn(`! ${name} differs from its snapshot: wrote ${changed}`);
  expect.fail(`${name} does not match ${file}; the new drawing is in ${changed} (if it is right, move it over the snapshot)`);
}

describe('dashboard charts match their snapshots', () => {
  const document = new JSDOM('<!doctype html><html><body></body></html>').window.document;
  const variants: Variant[] = [
    { channel: null, ...RANGE, period: '', periodLabel: 'Whole range' },
    { channel: 'messenger', ...RANGE, period: '', periodLabel: 'Whole range' },
  ];
  const data = new Map<string, VariantData>();

  beforeAll(async () => {
    const src = recordedSource();
    const { book, note } = await collectRegimes(src, loadDefaultRegimes);
    expect(note).toBeNull();
    for (const v of variants) data.set(v.channel ?? 'all', await collectVariant(src, book, v, { minSends: 100, now: () => FIXTURE_NOW }));
  });

  const charts = [
    ['all', 'spam-risk', 'scatter'],
    ['all', 'frequency', 'opt-outs-per-1k'],
    ['all', 'frequency', 'read-rate'],
    ['all', 'frequency', 'click-rate'],
    ['all', 'frequency', 'net-revenue-per-send'],
    ['all', 'frequency', 'expected-net-revenue-per-subscriber'],
    ['all', 'timeline', 'weekly-opt-outs-per-1k'],
    ['all', 'timeline', 'weekly-net-revenue-per-1k'],
    ['all', 'timeline', 'impact-opt-outs-per-1k'],
    ['all', 'timeline', 'impact-net-revenue-per-1k'],
    ['all', 'timeline', 'event-study-opt-outs-per-1k'],
    ['all', 'timeline', 'event-study-net-revenue-per-1k'],
    ['all', 'retention', 'survival'],
    ['all', 'funnel', 'stages'],
    ['messenger', 'spam-risk', 'scatter'],
    ['messenger', 'frequency', 'opt-outs-per-1k'],
    ['messenger', 'timeline', 'weekly-opt-outs-per-1k'],
  ] as const;

  it('covers every chart of every page', () => {
    const all = pagesFor(data.get('all')!, { minSends: 100 }).flatMap((p) => p.charts.map((c) => `${p.slug}/${c.id}`));
    expect(all.sort()).toEqual(
      charts
        .filter(([v]) => v === 'all')
        .map(([, p, c]) => `${p}/${c}`)
        .sort(),
    );
  });

  it('all frequency opt-outs-per-1k beside the previous period', async () => {
    const src = recordedSource();
    const { book } = await collectRegimes(src, loadDefaultRegimes);
    const rows = frequencyQueryRows(queryResults(await src.request(requests.frequency(COMPARED_VARIANT))), book, 'opt_outs_per_1k', true);
    const compared = rows.filter((r) => r.previous_value !== null);
    expect(compared.length).toBeGreaterThan(0);
    for (const r of compared) expect(r.change).toBeCloseTo(r.value - r.previous_value!, 9);
    const el = frequencyChart(rows, { document, label: 'Opt-outs per 1k sends', unit: 'per_1k' });
    compare('2024-frequency-opt-outs-per-1k-compared', 'svg', normalise(el));
    expect(describeFrequency(rows, { label: 'Opt-outs per 1k sends', unit: 'per_1k' })).toContain('previous period');
  });

  for (const [variant, page, chart] of charts) {
    it(`${variant} ${page} ${chart}`, () => {
      const def = pagesFor(data.get(variant)!, { minSends: 100 })
        .find((p) => p.slug === page)!
        .charts.find((c) => c.id === chart)!;
      expect(def.loaded.error).toBeNull();
      const rows = def.loaded.rows!;
      expect(rows.length).toBeGreaterThan(0);
      const el = def.render(rows, document);
      compare(`${variant}-${page}-${chart}`, el.tagName.toLowerCase() === 'svg' ? 'svg' : 'html', normalise(el));
      // Pure: the same rows draw the same chart.
      expect(normalise(def.render(rows, document))).toBe(normalise(el));
    });
  }
});
