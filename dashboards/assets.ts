// The site's stylesheet and its one script, written beside the pages as dashboards.css and dashboards.js.

export const CSS = `:root { color-scheme: light; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0969da; --warn-bg: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1000px; padding: 0 20px 40px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: #fff; }
a { color: var(--accent); }
a:focus-visible, select:focus-visible, summary:focus-visible { outline: 3px solid #0969da; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; }
header { border-bottom: 1px solid var(--line); margin-bottom: 8px; }
nav.pages ul, .filter ul { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
nav.pages { padding: 12px 0 4px; font-size: 14px; }
nav.pages a[aria-current="page"] { font-weight: 700; color: var(--fg); text-decoration: none; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 0 0 2px; }
h3 { font-size: 16px; margin: 12px 0 4px; }
.lede { margin: 0 0 4px; font-size: 16px; }
.built, .subtitle, .muted { color: var(--muted); font-size: 13px; margin: 0 0 6px; }
.filters { display: flex; flex-wrap: wrap; gap: 6px 28px; margin: 8px 0 12px; font-size: 14px; }
.filter { display: flex; gap: 10px; align-items: baseline; }
.filter-name { font-weight: 600; }
.filter a[aria-current="true"] { font-weight: 700; color: #fff; background: var(--fg); padding: 1px 8px; border-radius: 10px; text-decoration: none; }
section.chart { margin: 28px 0; padding-top: 8px; border-top: 1px solid #eaeef2; }
.about { font-size: 14px; margin: 0 0 8px; max-width: 75ch; }
.plot { overflow-x: auto; }
.plot figure { margin: 0; }
.plot svg { max-width: 100%; height: auto; }
.plot [class*="-swatches"] { font-size: 13px; }
.description { font-size: 14px; max-width: 90ch; background: #f6f8fa; padding: 8px 12px; border-left: 3px solid var(--line); }
.downloads { margin: 6px 0; font-size: 14px; }
.no-data { padding: 16px; background: #f6f8fa; border: 1px dashed var(--line); }
.warning { background: var(--warn-bg); padding: 6px 10px; font-size: 14px; }
details { margin: 6px 0; font-size: 14px; }
summary { cursor: pointer; color: var(--accent); }
.table-scroll { max-height: 420px; overflow: auto; border: 1px solid var(--line); margin-top: 6px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { text-align: left; padding: 4px 6px; color: var(--muted); }
th, td { padding: 3px 8px; border-bottom: 1px solid #eaeef2; text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: #f6f8fa; }
ul.index { list-style: none; padding: 0; }
ul.index > li { margin: 18px 0; }
ul.variants { padding-left: 18px; font-size: 14px; }
select { font: inherit; padding: 2px 4px; }
footer { margin-top: 40px; border-top: 1px solid var(--line); color: var(--muted); font-size: 13px; }
`;

/** Progressive enhancement only: without it every boundary's detail stays visible. No network, no globals. */
export const JS = `(function () {
  'use strict';
  var select = document.getElementById('boundary-select');
  if (!select) return;
  var blocks = document.querySelectorAll('[data-boundary]');
  function show() {
    for (var i = 0; i < blocks.length; i++) blocks[i].hidden = blocks[i].getAttribute('data-boundary') !== select.value;
  }
  select.addEventListener('change', show);
  show();
})();
`;
