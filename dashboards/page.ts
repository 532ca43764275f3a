// HTML of the dashboards: a page per dashboard and variant (channel × period), and an index. Static files
// only: styles and the one small script are files beside the pages, nothing is fetched at view time, so the
// site works opened from disk and served at /dashboards/ (whose Content-Security-Policy allows only 'self').
import type { ChartDef, PageDef } from './pages.js';
import { PAGES, TIMELINE_DEFS } from './pages.js';
import type { ImpactMetric, ImpactRow, Variant } from './data.js';
import { fmtNumber, fmtUnit } from './charts/common.js';
import { METHOD_NAMES } from './charts/impact.js';

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const utcMinute = (d: Date): string => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** File name of a page variant: spam-risk.html, spam-risk.messenger.html, spam-risk.whatsapp.2025.html … */
export function pageFile(slug: string, v: Pick<Variant, 'channel' | 'period'>): string {
  return `${[slug, v.channel, v.period || null].filter(Boolean).join('.')}.html`;
}

export function csvFile(slug: string, v: Pick<Variant, 'channel' | 'period'>, chartId: string): string {
  return `data/${pageFile(slug, v).replace(/\.html$/, '')}.${chartId}.csv`;
}

/** A table cell as shown: numbers to 6 significant digits (the CSV has them in full). */
export function tableCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : '';
  return String(v);
}

export interface Site {
  builtAt: Date;
  source: string;
  variants: Variant[];
  channels: (string | null)[];
  periods: { period: string; label: string; from: string; to: string }[];
  notes: string[];
}

export interface RenderedChart {
  def: ChartDef;
  /** Plot's element as HTML, or null when there is nothing to draw. */
  html: string | null;
  description: string | null;
  csv: string | null;
  rows: number;
}

const CHANNEL_NAMES: Record<string, string> = { messenger: 'Messenger', instagram: 'Instagram', whatsapp: 'WhatsApp' };
const channelName = (c: string | null) => (c === null ? 'All channels' : (CHANNEL_NAMES[c] ?? c));

function head(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · policylens</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboards.css">
</head>`;
}

function pageNav(current: string | null, v: Pick<Variant, 'channel' | 'period'>): string {
  const links = PAGES.map((p) =>
    p.slug === current
      ? `<li><a href="${pageFile(p.slug, v)}" aria-current="page">${esc(p.title)}</a></li>`
      : `<li><a href="${pageFile(p.slug, v)}">${esc(p.title)}</a></li>`,
  );
  return `<nav class="pages" aria-label="Dashboards"><ul><li><a href="index.html"${current === null ? ' aria-current="page"' : ''}>Index</a></li>${links.join('')}</ul></nav>`;
}

function filters(slug: string, v: Variant, site: Site): string {
  const channel = site.channels
    .map((c) => {
      const target = pageFile(slug, { channel: c, period: v.period });
      return c === v.channel
        ? `<li><a href="${target}" aria-current="true">${esc(channelName(c))}</a></li>`
        : `<li><a href="${target}">${esc(channelName(c))}</a></li>`;
    })
    .join('');
  const periods =
    site.periods.length > 1
      ? `<div class="filter"><span class="filter-name" id="filter-period">Period</span><ul aria-labelledby="filter-period">${site.periods
          .map((p) => {
            const target = pageFile(slug, { channel: v.channel, period: p.period });
            const text = `${p.label} (${p.from} to ${p.to})`;
            return p.period === v.period
              ? `<li><a href="${target}" aria-current="true">${esc(text)}</a></li>`
              : `<li><a href="${target}">${esc(text)}</a></li>`;
          })
          .join('')}</ul></div>`
      : '';
  return `<div class="filters"><div class="filter"><span class="filter-name" id="filter-channel">Channel</span><ul aria-labelledby="filter-channel">${channel}</ul></div>${periods}</div>`;
}

function tableView(chart: RenderedChart, rows: readonly object[]): string {
  const cols = chart.def.columns;
  const body = rows.map((r) => `<tr>${cols.map((c) => `<td>${esc(tableCell((r as Record<string, unknown>)[c]))}</td>`).join('')}</tr>`).join('\n');
  return `<details class="table-view"><summary>Table view (${rows.length} rows)</summary>
<div class="table-scroll"><table>
<caption>${esc(chart.def.title)}: the rows plotted</caption>
<thead><tr>${cols.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody></table></div></details>`;
}

export function chartSection(chart: RenderedChart, rows: readonly object[], ctx: { id: string; subtitle: string; csvHref: string }): string {
  const { def } = chart;
  const titleId = `${ctx.id}-title`;
  const descId = `${ctx.id}-desc`;
  if (chart.html === null) {
    const why = def.loaded.error ? `Not available: ${def.loaded.error}` : def.empty;
    return `<section class="chart" id="${ctx.id}" aria-labelledby="${titleId}">
<h2 id="${titleId}">${esc(def.title)}</h2>
<p class="subtitle">${esc(ctx.subtitle)}</p>
<p class="about">${esc(def.about)}</p>
<p class="no-data" role="status">${esc(why)}</p>
</section>`;
  }
  const notes = def.loaded.notes.length
    ? `<details class="notes"><summary>Notes (${def.loaded.notes.length})</summary><ul>${def.loaded.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></details>`
    : '';
  return `<section class="chart" id="${ctx.id}" aria-labelledby="${titleId}" data-rows="${rows.length}">
<h2 id="${titleId}">${esc(def.title)}</h2>
<p class="subtitle">${esc(ctx.subtitle)}</p>
<p class="about">${esc(def.about)}</p>
<div class="plot" role="img" aria-labelledby="${titleId}" aria-describedby="${descId}">
${chart.html}
</div>
<p class="description" id="${descId}">${esc(chart.description ?? '')}</p>
<p class="downloads"><a class="csv" href="${esc(ctx.csvHref)}" download>Download CSV of the plotted data (${rows.length} rows)</a></p>
${tableView(chart, rows)}
${notes}
</section>`;
}

function impactDetails(rows: readonly ImpactRow[]): string {
  if (!rows.length) return '';
  const keys = [...new Map(rows.map((r) => [`${r.change_date} ${r.treated}`, r])).values()].sort((a, b) => a.change_date.localeCompare(b.change_date));
  // The most recent boundary with an estimate is chosen first; the script lets the reader choose another.
  const chosen = `${keys[keys.length - 1].change_date} ${keys[keys.length - 1].treated}`;
  const options = keys
    .map((k) => {
      const key = `${k.change_date} ${k.treated}`;
      return `<option value="${esc(key)}"${key === chosen ? ' selected' : ''}>${esc(`${k.change_date} · ${k.treated} · ${k.label}`)}</option>`;
    })
    .join('');
  const blocks = keys
    .map((k) => {
      const key = `${k.change_date} ${k.treated}`;
      const own = rows.filter((r) => `${r.change_date} ${r.treated}` === key);
      const trs = own
        .map((r) => {
          const u = TIMELINE_DEFS[r.metric as ImpactMetric].unit;
          const ci = r.ci95_lo === null || r.ci95_hi === null ? 'no interval' : `${fmtUnit(r.ci95_lo, u)} to ${fmtUnit(r.ci95_hi, u)}`;
          const trend =
            r.parallel_trends_plausible === null
              ? '–'
              : `${r.parallel_trends_plausible ? 'parallel' : 'not shown parallel'}${r.pre_trend_slope_per_week === null ? '' : ` (slope ${fmtNumber(r.pre_trend_slope_per_week)}/week)`}`;
          return `<tr><th scope="row">${esc(r.metric)}</th><td>${esc(METHOD_NAMES[r.method] ?? r.method)}</td><td>${esc(fmtUnit(r.treated_before, u))}</td><td>${esc(fmtUnit(r.treated_after, u))}</td><td>${esc(fmtUnit(r.control_before, u))}</td><td>${esc(fmtUnit(r.control_after, u))}</td><td><strong>${esc(fmtUnit(r.estimate, u))}</strong> (${esc(ci)})</td><td>${esc(trend)}</td><td>${esc(r.randomisation_p === null ? '–' : fmtNumber(r.randomisation_p, 2))}</td></tr>`;
        })
        .join('');
      const reasons = [...new Set(own.map((r) => r.method_reason).filter(Boolean))];
      const warnings = [...new Set(own.flatMap((r) => (r.warnings ? [r.warnings] : [])))];
      return `<div class="impact-detail" data-boundary="${esc(key)}">
<h3>${esc(`${k.change_date}: ${k.label}`)} <span class="muted">(${esc(k.treated)} treated, ${esc(k.control ? `${k.control} control` : 'no control')})</span></h3>
${reasons.map((w) => `<p class="method">Method: ${esc(w)}</p>`).join('')}
<div class="table-scroll"><table><thead><tr><th scope="col">metric</th><th scope="col">method</th><th scope="col">treated before</th><th scope="col">treated after</th><th scope="col">control before</th><th scope="col">control after</th><th scope="col">estimate (95%)</th><th scope="col">pre-trend</th><th scope="col">placebo p</th></tr></thead><tbody>${trs}</tbody></table></div>
${warnings.map((w) => `<p class="warning">${esc(w)}</p>`).join('')}
</div>`;
    })
    .join('\n');
  return `<section class="chart impact-chooser" id="chosen-boundary" aria-labelledby="chosen-boundary-title">
<h2 id="chosen-boundary-title">Policy impact at the chosen boundary</h2>
<p><label for="boundary-select">Boundary</label> <select id="boundary-select">${options}</select></p>
${blocks}
</section>`;
}

export function renderPage(
  page: PageDef,
  v: Variant,
  site: Site,
  charts: { chart: RenderedChart; rows: readonly object[]; csvHref: string; readAt: Date | null }[],
): string {
  const scope = `${v.from} to ${v.to} · ${channelName(v.channel).toLowerCase()}`;
  const sections = charts.map(({ chart, rows, csvHref, readAt }) =>
    chartSection(chart, rows, { id: chart.def.id, csvHref, subtitle: `${scope} · data read ${readAt ? utcMinute(readAt) : '–'}` }),
  );
  // The chosen-boundary block goes after the charts it details.
  const details = page.impactDetails ? impactDetails(page.impactDetails) : '';
  return `${head(`${page.title} (${channelName(v.channel)}${v.period ? `, ${v.periodLabel}` : ''})`)}
<body>
<a class="skip" href="#main">Skip to the charts</a>
<header>
${pageNav(page.slug, v)}
<h1>${esc(page.title)}</h1>
<p class="lede">${esc(page.summary)}</p>
<p class="built">Built <time datetime="${site.builtAt.toISOString()}">${esc(utcMinute(site.builtAt))}</time> from the ${esc(site.source)} · ${esc(v.from)} to ${esc(v.to)}${v.period ? ` (${esc(v.periodLabel)})` : ''} · ${esc(channelName(v.channel))}</p>
${filters(page.slug, v, site)}
${site.notes.map((n) => `<p class="warning">${esc(n)}</p>`).join('\n')}
</header>
<main id="main">
${sections.join('\n')}
${details}
</main>
<footer><p>policylens dashboards · numbers from the policylens API (${esc(site.source)}) · see docs/dashboards.md</p></footer>
<script src="dashboards.js"></script>
</body>
</html>
`;
}

export function renderIndex(site: Site, pages: { slug: string; title: string; summary: string }[]): string {
  const variantLinks = (slug: string) =>
    site.periods
      .map(
        (p) =>
          `<li>${site.periods.length > 1 ? `${esc(p.label)}: ` : ''}${site.channels.map((c) => `<a href="${pageFile(slug, { channel: c, period: p.period })}">${esc(channelName(c))}</a>`).join(' · ')}</li>`,
      )
      .join('');
  const first = site.variants[0];
  return `${head('Dashboards')}
<body>
<a class="skip" href="#main">Skip to the list</a>
<header>
${pageNav(null, { channel: null, period: first?.period ?? '' })}
<h1>policylens dashboards</h1>
<p class="lede">How business-messaging policy changes move engagement, spam risk and revenue.</p>
<p class="built">Built <time datetime="${site.builtAt.toISOString()}">${esc(utcMinute(site.builtAt))}</time> from the ${esc(site.source)}${site.periods.map((p) => ` · ${esc(p.label)}: ${esc(p.from)} to ${esc(p.to)}`).join('')}</p>
${site.notes.map((n) => `<p class="warning">${esc(n)}</p>`).join('\n')}
</header>
<main id="main">
<ul class="index">
${pages
  .map(
    (p) => `<li><h2><a href="${pageFile(p.slug, { channel: null, period: first?.period ?? '' })}">${esc(p.title)}</a></h2>
<p>${esc(p.summary)}</p>
<ul class="variants">${variantLinks(p.slug)}</ul></li>`,
  )
  .join('\n')}
</ul>
</main>
<footer><p>Every chart has a text description, a table view and a CSV of exactly the data it plots. See docs/dashboards.md.</p></footer>
<script src="dashboards.js"></script>
</body>
</html>
`;
}
