// The dashboards in a real browser: the site built from the recorded fixtures, served by the API app at
// /dashboards/ (buildApp + the dashboards route, on 127.0.0.1), opened in Chromium through playwright-core.
// Every page: no console error, no failed request, an SVG with marks in every chart that has rows; a CSV
// downloaded per chart and checked against the chart's table view and marks. Screenshots go to
// test/artifacts/dashboards/. Needs /usr/bin/chromium (apt-get install chromium; .ci/run installs it): without it the test fails, it never skips.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../dashboards/build.js';
import { parseCsv } from '../dashboards/csv.js';
import { createKeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { buildFromFixtures } from './fixtures/dashboards/fixture-build.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const CHROMIUM = process.env.POLICYLENS_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = fileURLToPath(new URL('./artifacts/dashboards/', import.meta.url));
const SITE = join(ARTIFACTS, 'site');
const KEY = 'analyst-browser-key-0123456789';

/** Marks that carry data, by Plot's aria-label of the mark group. */
const MARKS =
  'g[aria-label="dot"] circle, g[aria-label="dot"] path, g[aria-label="line"] path, g[aria-label="area"] path, g[aria-label="bar"] rect, g[aria-label="rect"] rect';

interface Problems {
  console: string[];
  failed: string[];
}

function watch(page: Page): Problems {
  const p: Problems = { console: [], failed: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') p.console.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => p.console.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => p.failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) p.failed.push(`${r.url()}: ${r.status()}`);
  });
  return p;
}

/** A CSV cell and the table's cell say the same thing (the table rounds numbers to 6 significant digits). */
function sameCell(csv: string, shown: string): boolean {
  if (csv === shown) return true;
  const a = Number(csv);
  const b = Number(shown);
  if (csv === '' || shown === '' || !Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-5 * Math.max(Math.abs(a), Math.abs(b));
}

describe('dashboards in Chromium', () => {
  it('has a Chromium to drive', () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium`).toBe(true);
  });

  let manifest: Manifest;
  let t: TestWarehouse;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    manifest = await buildFromFixtures(SITE);
    t = await openTestWarehouse();
    const config = { ...t.config, dashboards: { ...t.config.dashboards, dir: SITE } };
    app = await buildApp({ config, wh: t.wh, keys: createKeyRing([{ key: KEY, role: 'analyst' }]) });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await app?.close();
    await t?.dispose();
  });

  it('signs in with ?key= once, then every page renders its charts without an error', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(`${base}/dashboards/?key=${KEY}`);
    expect(page.url()).toBe(`${base}/dashboards/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('policylens dashboards');
    await page.screenshot({ path: join(ARTIFACTS, 'index.png'), fullPage: true });

    for (const p of manifest.pages) {
      await page.goto(`${base}/dashboards/${p.file}`);
      await expect(page.locator('p.built time').count(), p.file).resolves.toBe(1);
      for (const c of p.charts) {
        const section = page.locator(`section#${c.id}`);
        if (c.rows > 0) {
          await expect(section.getAttribute('data-rows'), `${p.file}#${c.id}`).resolves.toBe(String(c.rows));
          await expect(section.locator('.plot svg').count(), `${p.file}#${c.id} svg`).resolves.toBeGreaterThan(0);
          await expect(section.locator(MARKS).count(), `${p.file}#${c.id} marks`).resolves.toBeGreaterThan(0);
          await expect(section.locator('p.description').textContent(), `${p.file}#${c.id} description`).resolves.toMatch(/\d/);
          await expect(section.locator('.subtitle').textContent()).resolves.toMatch(
            /^\d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} · .* · data read \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/,
          );
        } else {
          // Only WhatsApp has nothing to draw in the fixtures: its sends carry no frequency.
          expect(p.channel, `${p.file}#${c.id} is empty`).toBe('whatsapp');
          await expect(section.locator('.no-data').count()).resolves.toBe(1);
        }
      }
      if (!p.channel) await page.screenshot({ path: join(ARTIFACTS, `${p.file.replace(/\.html$/, '')}.png`), fullPage: true });
    }
    expect(problems.console).toEqual([]);
    expect(problems.failed).toEqual([]);
    await page.close();
  });

  it('downloads each chart’s CSV, equal to its table view and to its marks', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    let checked = 0;
    for (const p of manifest.pages.filter((x) => x.channel === null || x.channel === 'messenger')) {
      await page.goto(`${base}/dashboards/${p.file}`);
      for (const c of p.charts.filter((x) => x.rows > 0)) {
        const section = page.locator(`section#${c.id}`);
        const [download] = await Promise.all([page.waitForEvent('download'), section.locator('a.csv').click()]);
        const text = readFileSync((await download.path())!, 'utf8');
        expect(text).toBe(readFileSync(join(SITE, c.csv!), 'utf8'));
        const csv = parseCsv(text);
        const header = await section.locator('table thead th').allTextContents();
        expect(csv[0]).toEqual(header);
        expect(csv.length - 1).toBe(c.rows);
        const table = await section
          .locator('table tbody tr')
          .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
        expect(table.length).toBe(c.rows);
        table.forEach((row, i) => {
          row.forEach((cell, j) => {
            expect(sameCell(csv[i + 1][j], cell), `${p.file}#${c.id} row ${i} ${csv[0][j]}: ${csv[i + 1][j]} vs ${cell}`).toBe(true);
          });
        });

        // The marks are the rows: one business dot per business row, one bar per funnel row, one curve per group.
        const col = (name: string) => csv[0].indexOf(name);
        const body = csv.slice(1);
        if (p.page === 'spam-risk')
          expect(await section.locator('g[aria-label="dot"] circle').count()).toBe(body.filter((r) => r[col('layer')] === 'business').length);
        if (p.page === 'funnel') expect(await section.locator('g[aria-label="bar"] rect').count()).toBe(2 * body.length);
        if (p.page === 'retention') expect(await section.locator('g[aria-label="line"] path').count()).toBe(new Set(body.map((r) => r[col('frequency')])).size);
        if (p.page === 'frequency') expect(await section.locator('g[aria-label="dot"] circle').count()).toBe(body.length);
        if (c.id.startsWith('impact-') || c.id.startsWith('event-study-'))
          expect(await section.locator('g[aria-label="dot"] circle').count()).toBe(body.length);
        checked++;
      }
    }
    expect(checked).toBe(2 * 14);
    expect(problems.console).toEqual([]);
    await page.close();
  });

  it('shows the chosen boundary’s policy impact, and another when chosen', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/dashboards/timeline.html`);
    const select = page.locator('#boundary-select');
    const options = await select.locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options.length).toBeGreaterThan(3);
    await expect(page.locator('.impact-detail:visible').count()).resolves.toBe(1);
    await expect(page.locator(`.impact-detail[data-boundary="${options[options.length - 1]}"]`).isVisible()).resolves.toBe(true);
    await select.selectOption(options[2]);
    await expect(page.locator(`.impact-detail[data-boundary="${options[2]}"]`).isVisible()).resolves.toBe(true);
    await expect(page.locator('.impact-detail:visible').count()).resolves.toBe(1);
    await page.locator('#chosen-boundary').screenshot({ path: join(ARTIFACTS, 'timeline-chosen-boundary.png') });
    await page.close();
  });

  it('works opened from disk, with no server', async () => {
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(pathToFileURL(join(SITE, 'index.html')).href);
    await page.locator('a', { hasText: 'Spam risk vs revenue' }).first().click();
    await page.waitForLoadState();
    expect(page.url()).toMatch(/spam-risk\.html$/);
    await expect(page.locator('section#scatter .plot svg').count()).resolves.toBeGreaterThan(0);
    await page.locator('nav.pages a', { hasText: 'Policy timeline' }).click();
    await page.waitForLoadState();
    await expect(page.locator('#boundary-select').count()).resolves.toBe(1);
    expect(problems.console).toEqual([]);
    expect(problems.failed).toEqual([]);
    await page.close();
  });
});
