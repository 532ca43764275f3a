// The adapter between the API and the charts: which requests each page makes, and how each response becomes
// the flat rows a chart plots (and its CSV and table show). Shape differences between the API and what the
// charts expect are absorbed here and nowhere else. Everything below `collect*` is pure.
import { ApiRequestError, type ApiRequest, type Source } from './source.js';

export const CHANNELS = ['messenger', 'instagram', 'whatsapp'] as const;
export const FREQUENCIES = ['daily', 'weekly', 'monthly'] as const;
export const FUNNEL_STAGES = ['sends', 'delivered', 'read', 'clicked', 'converted'] as const;
export const IMPACT_METRICS = ['opt_outs_per_1k', 'net_revenue_per_1k'] as const;
export type ImpactMetric = (typeof IMPACT_METRICS)[number];

const DAY_MS = 86_400_000;
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const dayMs = (day: string): number => Date.parse(`${day}T00:00:00Z`);
export const addDays = (day: string, n: number): string => isoDay(dayMs(day) + n * DAY_MS);

// ---------------------------------------------------------------------------------------------------------
// Response shapes, as the contract and the route files (query/route-*.ts) give them. Fields the dashboards do
// not read are left out.

export interface RegimeEntry {
  channel: string;
  regime: string;
  /** Inclusive UTC day. */
  start: string;
  /** Exclusive UTC day, null when open. */
  end: string | null;
  label: string;
}

export interface Interval {
  estimate: number | null;
  ci95: [number, number] | null;
}

export interface FrontierResponse {
  from: string;
  to: string;
  channel: string | null;
  horizon_days: number;
  frequencies: ({
    frequency: string;
    businesses: number;
    subscribers: number;
    sends: number;
    opt_outs: number;
    blocks: number;
    spam_reports: number;
    revenue_usd: number;
    cost_usd: number;
  } & Record<string, Interval | number | string>)[];
}

export interface RetentionResponse {
  by: string;
  channel: string | null;
  end_of_data: string | null;
  groups: {
    group: string;
    subjects: number;
    events: number;
    censored: number;
    median_days: number | null;
    steps: { day: number; at_risk: number; events: number; censored: number; survival: number; ci95: [number, number] }[];
  }[];
}

export interface ImpactCell {
  channel: string;
  value: number;
  numerator: number;
  denominator: number;
  businesses: number;
}

export interface ImpactResponse {
  metric: string;
  metric_description: string;
  treated: string;
  control: string;
  change: { input: string; date: string; regime: string | null };
  window_days: number;
  windows: { before: { from: string; to: string }; after: { from: string; to: string } };
  cells: { treated_before: ImpactCell; treated_after: ImpactCell; control_before: ImpactCell; control_after: ImpactCell };
  estimate: number;
  ci95: [number, number] | null;
  pre_trend: { weeks: number; slope_per_week: number | null; ci95: [number, number] | null; parallel_trends_plausible: boolean };
  warnings: string[];
}

/** One result of POST /v1/query, normalised: dimension values as strings (null kept), metrics as numbers. */
export interface QueryResult {
  dimensions: Record<string, string | null>;
  metrics: Record<string, number | null>;
  ci95: Record<string, [number, number] | null>;
}

// ---------------------------------------------------------------------------------------------------------
// Normalisers: lenient about small shape differences, strict about what the charts need.

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : null;
};
const pair = (v: unknown): [number, number] | null => {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const a = numOrNull(v[0]);
  const b = numOrNull(v[1]);
  return a === null || b === null ? null : [a, b];
};

export function regimesFrom(body: unknown): RegimeEntry[] {
  const list = Array.isArray(body) ? body : isObj(body) && Array.isArray(body.regimes) ? body.regimes : null;
  if (!list) throw new Error('regimes: expected {regimes: [...]} or an array');
  return list.map((r: unknown) => {
    if (!isObj(r) || typeof r.channel !== 'string' || typeof r.regime !== 'string' || typeof r.start !== 'string') throw new Error(`regimes: bad entry ${JSON.stringify(r)}`);
    return { channel: r.channel, regime: r.regime, start: r.start.slice(0, 10), end: typeof r.end === 'string' ? r.end.slice(0, 10) : null, label: typeof r.label === 'string' && r.label ? r.label : r.regime };
  });
}

/** A time dimension's value as YYYY-MM-DD: accepts a date, a date-time, or epoch milliseconds. */
export function dayOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return isoDay(v);
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  if (v.length === 10) return v;
  const ms = Date.parse(v.includes('T') || v.includes('Z') ? v : `${v.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? v.slice(0, 10) : isoDay(ms);
}

export function queryResults(body: unknown): QueryResult[] {
  if (!isObj(body) || !Array.isArray(body.results)) throw new Error('query: expected {results: [...]}');
  return body.results.map((r: unknown) => {
    if (!isObj(r) || !isObj(r.dimensions) || !isObj(r.metrics)) throw new Error(`query: bad result ${JSON.stringify(r).slice(0, 200)}`);
    const dimensions: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(r.dimensions)) dimensions[k] = v === null || v === undefined || v === '' ? null : k.startsWith('time:') ? dayOf(v) : String(v);
    const metrics: Record<string, number | null> = {};
    const ci95: Record<string, [number, number] | null> = {};
    for (const [k, v] of Object.entries(r.metrics)) {
      if (k.endsWith('_ci95')) ci95[k.slice(0, -5)] = pair(v);
      else if (isObj(v) && 'estimate' in v) {
        // Tolerated: {estimate, ci95} per metric, as the analysis endpoints write intervals.
        metrics[k] = numOrNull(v.estimate);
        ci95[k] = pair(v.ci95);
      } else metrics[k] = numOrNull(v);
    }
    return { dimensions, metrics, ci95 };
  });
}

const freqOrder = (f: string) => {
  const i = (FREQUENCIES as readonly string[]).indexOf(f);
  return i < 0 ? FREQUENCIES.length : i;
};
const channelOrder = (c: string) => {
  const i = (CHANNELS as readonly string[]).indexOf(c);
  return i < 0 ? CHANNELS.length : i;
};

// ---------------------------------------------------------------------------------------------------------
// Regimes: ordering, labels, bands and boundaries.

export class RegimeBook {
  readonly entries: RegimeEntry[];
  constructor(entries: RegimeEntry[]) {
    this.entries = [...entries].sort((a, b) => a.start.localeCompare(b.start) || channelOrder(a.channel) - channelOrder(b.channel));
  }
  /** The first entry of a regime name (names are shared by channels with the same calendar). */
  first(regime: string): RegimeEntry | undefined {
    return this.entries.find((e) => e.regime === regime);
  }
  label(regime: string): string {
    return this.first(regime)?.label ?? regime;
  }
  /** Chronological order key of a regime name; unknown names last. */
  order(regime: string): number {
    const i = this.entries.findIndex((e) => e.regime === regime);
    return i < 0 ? this.entries.length : i;
  }
  of(channel: string, regime: string): RegimeEntry | undefined {
    return this.entries.find((e) => e.channel === channel && e.regime === regime);
  }
  /** The regime of a channel on a day. */
  at(channel: string, day: string): RegimeEntry | undefined {
    return this.entries.find((e) => e.channel === channel && e.start <= day && (e.end === null || day < e.end));
  }
  /** Regime ranges of the channels, clipped to [from, to] (inclusive days): the timeline's bands. */
  bands(channels: readonly string[], from: string, to: string): BandRow[] {
    const out: BandRow[] = [];
    for (const channel of channels) {
      const own = this.entries.filter((e) => e.channel === channel);
      own.forEach((e, i) => {
        const last = e.end === null ? to : addDays(e.end, -1);
        if (last < from || e.start > to) return;
        out.push({ channel, regime: e.regime, label: e.label, start: e.start < from ? from : e.start, end: last > to ? to : last, shade: i % 2 });
      });
    }
    return out;
  }
  /** Starts of regimes after a channel's first, inside [from, to]: the policy changes. */
  boundaries(channels: readonly string[], from: string, to: string): BoundaryRow[] {
    const out: BoundaryRow[] = [];
    for (const channel of channels) {
      const own = this.entries.filter((e) => e.channel === channel);
      for (let i = 1; i < own.length; i++) {
        const e = own[i];
        if (e.start >= from && e.start <= to) out.push({ channel, date: e.start, regime: e.regime, label: e.label, previous: own[i - 1].regime });
      }
    }
    return out.sort((a, b) => a.date.localeCompare(b.date) || channelOrder(a.channel) - channelOrder(b.channel));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chart rows. Every field is a plain string or number (or null), so rows go to CSV and tables as they are.

/** A regime band on the timeline: [start, end] inclusive days; `shade` alternates 0/1 within a channel. */
export interface BandRow {
  channel: string;
  regime: string;
  label: string;
  start: string;
  end: string;
  shade: number;
}

export interface BoundaryRow {
  channel: string;
  date: string;
  regime: string;
  label: string;
  previous: string;
}

/** Spam risk vs revenue: one row per business × frequency × regime (layer "business"), plus the frontier. */
export interface ScatterRow {
  layer: 'business' | 'frontier';
  regime: string;
  regime_label: string;
  frequency: string;
  business_id: string | null;
  sends: number;
  spam_risk_per_1k: number;
  net_revenue_per_1k: number;
}

/** One estimate with its 95% interval, for one frequency in one regime (and channel, when not filtered). */
export interface FrequencyRow {
  group: string;
  regime: string;
  channel: string | null;
  frequency: string;
  metric: string;
  value: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  sends: number;
}

export interface TimelineRow {
  week: string;
  channel: string;
  regime: string;
  metric: string;
  value: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  sends: number;
}

export interface ImpactRow {
  metric: string;
  change_date: string;
  treated: string;
  control: string;
  regime: string;
  label: string;
  estimate: number;
  ci95_lo: number | null;
  ci95_hi: number | null;
  treated_before: number;
  treated_after: number;
  control_before: number;
  control_after: number;
  pre_trend_slope_per_week: number | null;
  parallel_trends_plausible: boolean;
  warnings: string;
}

export interface RetentionRow {
  frequency: string;
  day: number;
  survival: number;
  ci95_lo: number;
  ci95_hi: number;
  at_risk: number;
  events: number;
  censored: number;
}

export interface FunnelRow {
  channel: string;
  category: string;
  stage: string;
  stage_index: number;
  count: number;
  share_of_sends: number;
}

// ---------------------------------------------------------------------------------------------------------
// Response → rows.

export function scatterBusinessRows(results: QueryResult[], book: RegimeBook, minSends: number): ScatterRow[] {
  const out: ScatterRow[] = [];
  for (const r of results) {
    const { business_id: business, frequency, regime } = r.dimensions;
    const sends = r.metrics.sends ?? 0;
    const x = r.metrics.spam_risk_per_1k;
    const y = r.metrics.net_revenue_per_1k;
    if (!business || !frequency || !regime || x === null || y === null || x === undefined || y === undefined || sends < minSends) continue;
    out.push({ layer: 'business', regime, regime_label: book.label(regime), frequency, business_id: business, sends, spam_risk_per_1k: x, net_revenue_per_1k: y });
  }
  return out.sort((a, b) => book.order(a.regime) - book.order(b.regime) || freqOrder(a.frequency) - freqOrder(b.frequency) || a.business_id!.localeCompare(b.business_id!));
}

export interface FrontierPart {
  regime: string;
  channel: string;
  response: FrontierResponse;
}

/** Frontier points per regime and frequency, ratio of the totals summed over the regime's channels. */
export function scatterFrontierRows(parts: FrontierPart[], book: RegimeBook): ScatterRow[] {
  const sums = new Map<string, { regime: string; frequency: string; sends: number; risk: number; net: number }>();
  for (const p of parts) {
    for (const f of p.response.frequencies) {
      if (!(f.sends > 0)) continue;
      const key = `${p.regime}\u0000${f.frequency}`;
      const s = sums.get(key) ?? { regime: p.regime, frequency: f.frequency, sends: 0, risk: 0, net: 0 };
      s.sends += f.sends;
      s.risk += f.opt_outs + f.blocks + f.spam_reports;
      s.net += f.revenue_usd - f.cost_usd;
      sums.set(key, s);
    }
  }
  return [...sums.values()]
    .map((s): ScatterRow => ({
      layer: 'frontier',
      regime: s.regime,
      regime_label: book.label(s.regime),
      frequency: s.frequency,
      business_id: null,
      sends: s.sends,
      spam_risk_per_1k: (1000 * s.risk) / s.sends,
      net_revenue_per_1k: (1000 * s.net) / s.sends,
    }))
    .sort((a, b) => book.order(a.regime) - book.order(b.regime) || freqOrder(a.frequency) - freqOrder(b.frequency));
}

export const groupLabel = (book: RegimeBook, regime: string, channel: string | null): string => (channel ? `${book.label(regime)} · ${channel}` : book.label(regime));

/** opt_outs_per_1k, read_rate, click_rate by frequency × regime (× channel) from POST /v1/query. */
export function frequencyQueryRows(results: QueryResult[], book: RegimeBook, metric: string, byChannel: boolean): FrequencyRow[] {
  const out: FrequencyRow[] = [];
  for (const r of results) {
    const { frequency, regime } = r.dimensions;
    const channel = byChannel ? r.dimensions.channel : null;
    const value = r.metrics[metric];
    if (!frequency || !regime || value === null || value === undefined || (byChannel && !channel)) continue;
    const ci = r.ci95[metric] ?? null;
    out.push({ group: groupLabel(book, regime, channel), regime, channel, frequency, metric, value, ci95_lo: ci?.[0] ?? null, ci95_hi: ci?.[1] ?? null, sends: r.metrics.sends ?? 0 });
  }
  return sortFrequencyRows(out, book);
}

/** net_revenue_per_send, expected_net_revenue_per_subscriber… per frequency, one frontier response per regime (× channel). */
export function frequencyFrontierRows(parts: FrontierPart[], book: RegimeBook, metric: string, byChannel: boolean): FrequencyRow[] {
  const out: FrequencyRow[] = [];
  for (const p of parts) {
    for (const f of p.response.frequencies) {
      const est = f[metric] as Interval | undefined;
      if (!est || !(f.sends > 0) || est.estimate === null || est.estimate === undefined) continue;
      const channel = byChannel ? p.channel : null;
      out.push({ group: groupLabel(book, p.regime, channel), regime: p.regime, channel, frequency: f.frequency, metric, value: est.estimate, ci95_lo: est.ci95?.[0] ?? null, ci95_hi: est.ci95?.[1] ?? null, sends: f.sends });
    }
  }
  return sortFrequencyRows(out, book);
}

function sortFrequencyRows(rows: FrequencyRow[], book: RegimeBook): FrequencyRow[] {
  return rows.sort((a, b) => book.order(a.regime) - book.order(b.regime) || channelOrder(a.channel ?? '') - channelOrder(b.channel ?? '') || freqOrder(a.frequency) - freqOrder(b.frequency));
}

export function timelineRows(results: QueryResult[], book: RegimeBook, metric: string): TimelineRow[] {
  const out: TimelineRow[] = [];
  for (const r of results) {
    const week = r.dimensions['time:week'];
    const channel = r.dimensions.channel;
    const value = r.metrics[metric];
    if (!week || !channel || value === null || value === undefined) continue;
    const ci = r.ci95[metric] ?? null;
    out.push({ week, channel, regime: book.at(channel, week)?.regime ?? 'unknown', metric, value, ci95_lo: ci?.[0] ?? null, ci95_hi: ci?.[1] ?? null, sends: r.metrics.sends ?? 0 });
  }
  return out.sort((a, b) => channelOrder(a.channel) - channelOrder(b.channel) || a.week.localeCompare(b.week));
}

export function impactRow(body: unknown, book: RegimeBook): ImpactRow {
  const r = body as ImpactResponse;
  if (!isObj(r) || typeof r.estimate !== 'number' || !isObj(r.cells)) throw new Error('policy-impact: expected {estimate, ci95, cells, …}');
  const regime = r.change.regime ?? book.at(r.treated, r.change.date)?.regime ?? '';
  return {
    metric: r.metric,
    change_date: r.change.date,
    treated: r.treated,
    control: r.control,
    regime,
    label: regime ? (book.of(r.treated, regime)?.label ?? book.label(regime)) : r.change.date,
    estimate: r.estimate,
    ci95_lo: r.ci95?.[0] ?? null,
    ci95_hi: r.ci95?.[1] ?? null,
    treated_before: r.cells.treated_before.value,
    treated_after: r.cells.treated_after.value,
    control_before: r.cells.control_before.value,
    control_after: r.cells.control_after.value,
    pre_trend_slope_per_week: r.pre_trend?.slope_per_week ?? null,
    parallel_trends_plausible: Boolean(r.pre_trend?.parallel_trends_plausible),
    warnings: (r.warnings ?? []).join(' '),
  };
}

/** Kaplan–Meier steps per frequency; a day-0 step at survival 1 is added where the API starts later. */
export function retentionRows(body: unknown): RetentionRow[] {
  const r = body as RetentionResponse;
  if (!isObj(r) || !Array.isArray(r.groups)) throw new Error('retention: expected {groups: [...]}');
  const out: RetentionRow[] = [];
  for (const g of [...r.groups].sort((a, b) => freqOrder(a.group) - freqOrder(b.group))) {
    if (!g.group || !g.steps.length) continue;
    if (g.steps[0].day > 0) out.push({ frequency: g.group, day: 0, survival: 1, ci95_lo: 1, ci95_hi: 1, at_risk: g.subjects, events: 0, censored: 0 });
    for (const s of g.steps) out.push({ frequency: g.group, day: s.day, survival: s.survival, ci95_lo: s.ci95[0], ci95_hi: s.ci95[1], at_risk: s.at_risk, events: s.events, censored: s.censored });
  }
  return out;
}

export function funnelRows(results: QueryResult[]): FunnelRow[] {
  const out: FunnelRow[] = [];
  for (const r of results) {
    const { channel, category } = r.dimensions;
    const sends = r.metrics.sends ?? 0;
    if (!channel || !category || !(sends > 0)) continue;
    FUNNEL_STAGES.forEach((stage, i) => {
      const count = r.metrics[stage] ?? 0;
      out.push({ channel, category, stage: stage === 'sends' ? 'sent' : stage, stage_index: i, count, share_of_sends: count / sends });
    });
  }
  return out.sort((a, b) => channelOrder(a.channel) - channelOrder(b.channel) || a.category.localeCompare(b.category) || a.stage_index - b.stage_index);
}

// ---------------------------------------------------------------------------------------------------------
// What a variant (channel × period) needs, and fetching it.

export interface Variant {
  /** null: every channel. */
  channel: string | null;
  from: string;
  to: string;
  /** Short name of the period in file names; '' for the default (whole) period. */
  period: string;
  periodLabel: string;
}

export interface Loaded<T> {
  rows: T | null;
  /** Why there are no rows (an API error, in words), or null. */
  error: string | null;
  /** When the newest answer the rows came from was read. */
  readAt: Date | null;
  notes: string[];
}

export interface VariantData {
  variant: Variant;
  scatter: Loaded<ScatterRow[]>;
  frequency: Record<FrequencyMetric, Loaded<FrequencyRow[]>>;
  timeline: Record<ImpactMetric, Loaded<TimelineRow[]>>;
  bands: BandRow[];
  boundaries: BoundaryRow[];
  impact: Loaded<ImpactRow[]>;
  retention: Loaded<RetentionRow[]>;
  funnel: Loaded<FunnelRow[]>;
}

export const FREQUENCY_METRICS = ['opt_outs_per_1k', 'read_rate', 'click_rate', 'net_revenue_per_send', 'expected_net_revenue_per_subscriber'] as const;
export type FrequencyMetric = (typeof FREQUENCY_METRICS)[number];
const FROM_FRONTIER: readonly string[] = ['net_revenue_per_send', 'expected_net_revenue_per_subscriber'];

export const HORIZON_DAYS = 90;
export const IMPACT_WINDOW_DAYS = 90;
/** The API's largest `limit` (query/query-request.ts MAX_LIMIT); a truncated answer is said on the chart. */
export const QUERY_LIMIT = 10_000;

export interface CollectOptions {
  /** Businesses with fewer sends in a regime and frequency are left off the scatter (too noisy to read). */
  minSends: number;
  now: () => Date;
}

const channelFilter = (v: Variant): [string, string, string[]][] => (v.channel ? [['is', 'channel', [v.channel]]] : []);

export const requests = {
  regimes: (): ApiRequest => ({ method: 'GET', path: '/v1/regimes' }),
  extent: (from: string, to: string): ApiRequest => ({ method: 'POST', path: '/v1/query', body: { metrics: ['sends'], dimensions: ['time:month'], date_range: [from, to], limit: QUERY_LIMIT } }),
  scatter: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: {
      metrics: ['sends', 'spam_risk_per_1k', 'net_revenue_per_1k'],
      dimensions: ['regime', 'frequency', 'business_id'],
      date_range: [v.from, v.to],
      filters: [['is', 'frequency', [...FREQUENCIES]], ...channelFilter(v)],
      limit: QUERY_LIMIT,
    },
  }),
  frequency: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: {
      metrics: ['sends', 'opt_outs_per_1k', 'read_rate', 'click_rate'],
      dimensions: ['regime', 'channel', 'frequency'],
      date_range: [v.from, v.to],
      filters: [['is', 'frequency', [...FREQUENCIES]], ...channelFilter(v)],
      limit: QUERY_LIMIT,
    },
  }),
  frontier: (from: string, to: string, channel: string): ApiRequest => ({ method: 'GET', path: '/v1/frequency-frontier', query: { from, to, channel, horizon_days: HORIZON_DAYS } }),
  timeline: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: { metrics: ['sends', 'opt_outs_per_1k', 'net_revenue_per_1k'], dimensions: ['time:week', 'channel'], date_range: [v.from, v.to], filters: channelFilter(v), limit: QUERY_LIMIT },
  }),
  impact: (metric: string, treated: string, control: string, change: string): ApiRequest => ({
    method: 'GET',
    path: '/v1/policy-impact',
    query: { metric, treated, control, change, window_days: IMPACT_WINDOW_DAYS },
  }),
  retention: (v: Variant): ApiRequest => ({ method: 'GET', path: '/v1/retention', query: { by: 'frequency', channel: v.channel ?? undefined, from: v.from, to: v.to } }),
  funnel: (v: Variant): ApiRequest => ({
    method: 'POST',
    path: '/v1/query',
    body: { metrics: [...FUNNEL_STAGES], dimensions: ['channel', 'category'], date_range: [v.from, v.to], filters: channelFilter(v), limit: QUERY_LIMIT },
  }),
};

/** The control channel for a change on `treated`: one without a change of its own inside the window, if any. */
export function controlFor(treated: string, date: string, book: RegimeBook): string {
  const candidates = treated === 'whatsapp' ? ['messenger', 'instagram'] : ['whatsapp', treated === 'messenger' ? 'instagram' : 'messenger'];
  const lo = addDays(date, -IMPACT_WINDOW_DAYS);
  const hi = addDays(date, IMPACT_WINDOW_DAYS);
  const quiet = candidates.find((c) => !book.boundaries([c], lo, hi).length);
  return quiet ?? candidates[0];
}

function message(err: unknown): string {
  if (err instanceof ApiRequestError) return `${err.code} (${err.status}) from ${err.request.method} ${err.request.path}: ${err.message.replace(/^[^:]*: \d+ [A-Z_]+: /, '')}`;
  return (err as Error).message;
}

async function load<T>(now: () => Date, run: (notes: string[]) => Promise<T>): Promise<Loaded<T>> {
  const notes: string[] = [];
  try {
    const rows = await run(notes);
    return { rows, error: null, readAt: now(), notes };
  } catch (err) {
    return { rows: null, error: message(err), readAt: null, notes };
  }
}

/** POST /v1/query, its results normalised; a truncated answer (meta.truncated) leaves a note. */
async function ask(src: Source, req: ApiRequest, notes: string[]): Promise<QueryResult[]> {
  const body = await src.request(req);
  const meta = isObj(body) && isObj(body.meta) ? body.meta : {};
  if (meta.truncated === true) notes.push(`The API answered with ${String(meta.rows)} of ${String(meta.total_rows)} rows (its limit is ${QUERY_LIMIT}): only those are plotted.`);
  return queryResults(body);
}

/** The regime table from the API; the repository's default table when the API has no /v1/regimes. */
export async function collectRegimes(src: Source, fallback: () => RegimeEntry[]): Promise<{ book: RegimeBook; note: string | null }> {
  try {
    return { book: new RegimeBook(regimesFrom(await src.request(requests.regimes()))), note: null };
  } catch (err) {
    return { book: new RegimeBook(fallback()), note: `The regime table is the repository default (warehouse/regimes.json): ${message(err)}` };
  }
}

/** First and last day with sends inside [from, to], by month; null when the API cannot say. */
export async function collectExtent(src: Source, from: string, to: string): Promise<{ from: string; to: string } | null> {
  try {
    const months = (await ask(src, requests.extent(from, to), []))
      .filter((r) => (r.metrics.sends ?? 0) > 0 && r.dimensions['time:month'])
      .map((r) => r.dimensions['time:month']!)
      .sort();
    if (!months.length) return null;
    const first = months[0] < from ? from : months[0];
    const lastMonth = months[months.length - 1];
    const next = new Date(dayMs(lastMonth));
    next.setUTCMonth(next.getUTCMonth() + 1);
    const last = addDays(isoDay(next.getTime()), -1);
    return { from: first, to: last > to ? to : last };
  } catch {
    return null;
  }
}

export async function collectVariant(src: Source, book: RegimeBook, v: Variant, opts: CollectOptions): Promise<VariantData> {
  const { now } = opts;
  const channels = v.channel ? [v.channel] : [...CHANNELS];
  const byChannel = v.channel === null;

  // (regime, channel) pairs with frequency sends decide which frontiers to ask for.
  const freqQuery = load(now, (notes) => ask(src, requests.frequency(v), notes));
  const frontiers = load(now, async () => {
    const q = await freqQuery;
    const pairs = new Map<string, { regime: string; channel: string }>();
    if (q.rows) {
      for (const r of q.rows) {
        const { regime, channel } = r.dimensions;
        if (regime && channel && (r.metrics.sends ?? 0) > 0) pairs.set(`${regime}\u0000${channel}`, { regime, channel });
      }
    } else {
      // Without the query answer, ask for every regime of the channels that overlaps the range; the frontier
      // of a regime without recurring sends comes back with zero sends and draws nothing.
      for (const e of book.entries) {
        if (channels.includes(e.channel) && e.start <= v.to && (e.end === null || e.end > v.from)) pairs.set(`${e.regime}\u0000${e.channel}`, { regime: e.regime, channel: e.channel });
      }
    }
    const parts = await Promise.all(
      [...pairs.values()].map(async ({ regime, channel }): Promise<FrontierPart | null> => {
        const e = book.of(channel, regime);
        if (!e) return null;
        const from = e.start > v.from ? e.start : v.from;
        const last = e.end === null ? v.to : addDays(e.end, -1);
        const to = last < v.to ? last : v.to;
        if (from > to) return null;
        return { regime, channel, response: (await src.request(requests.frontier(from, to, channel))) as FrontierResponse };
      }),
    );
    return parts.filter((p): p is FrontierPart => p !== null);
  });

  const scatter = load(now, async (notes) => {
    const points = scatterBusinessRows(await ask(src, requests.scatter(v), notes), book, opts.minSends);
    const f = await frontiers;
    if (!f.rows) throw new Error(f.error ?? 'no frontier');
    return [...points, ...scatterFrontierRows(f.rows, book)];
  });

  const frequency = Object.fromEntries(
    await Promise.all(
      FREQUENCY_METRICS.map(async (metric) => {
        const loaded = FROM_FRONTIER.includes(metric)
          ? await load(now, async () => {
              const f = await frontiers;
              if (!f.rows) throw new Error(f.error ?? 'no frontier');
              return frequencyFrontierRows(f.rows, book, metric, byChannel);
            })
          : await load(now, async (notes) => {
              const q = await freqQuery;
              if (!q.rows) throw new Error(q.error ?? 'no rows');
              notes.push(...q.notes);
              return frequencyQueryRows(q.rows, book, metric, byChannel);
            });
        return [metric, loaded] as const;
      }),
    ),
  ) as Record<FrequencyMetric, Loaded<FrequencyRow[]>>;

  const timelineQuery = load(now, (notes) => ask(src, requests.timeline(v), notes));
  const timeline = Object.fromEntries(
    await Promise.all(
      IMPACT_METRICS.map(async (metric) => {
        const q = await timelineQuery;
        const loaded: Loaded<TimelineRow[]> = q.rows ? { ...q, rows: timelineRows(q.rows, book, metric) } : { ...q, rows: null };
        return [metric, loaded] as const;
      }),
    ),
  ) as Record<ImpactMetric, Loaded<TimelineRow[]>>;

  const boundaries = book.boundaries(channels, v.from, v.to);
  const impact = load(now, async () => {
    const rows: ImpactRow[] = [];
    const skipped: string[] = [];
    await Promise.all(
      boundaries.flatMap((b) =>
        IMPACT_METRICS.map(async (metric) => {
          if (addDays(b.date, -IMPACT_WINDOW_DAYS) < v.from || addDays(b.date, IMPACT_WINDOW_DAYS - 1) > v.to) {
            if (metric === IMPACT_METRICS[0]) skipped.push(`${b.date} ${b.channel}: the ${IMPACT_WINDOW_DAYS}-day windows around it are not both inside ${v.from}..${v.to}`);
            return;
          }
          try {
            rows.push(impactRow(await src.request(requests.impact(metric, b.channel, controlFor(b.channel, b.date, book), b.date)), book));
          } catch (err) {
            skipped.push(`${b.date} ${b.channel} ${metric}: ${message(err)}`);
          }
        }),
      ),
    );
    if (!rows.length && skipped.length) throw new Error(skipped.join('; '));
    rows.sort((a, b) => a.metric.localeCompare(b.metric) || a.change_date.localeCompare(b.change_date) || channelOrder(a.treated) - channelOrder(b.treated));
    return { rows, skipped };
  }).then((l): Loaded<ImpactRow[]> => ({ ...l, rows: l.rows?.rows ?? null, notes: l.rows?.skipped.sort() ?? [] }));

  const retention = load(now, async () => retentionRows(await src.request(requests.retention(v))));
  const funnel = load(now, async (notes) => funnelRows(await ask(src, requests.funnel(v), notes)));

  return {
    variant: v,
    scatter: await scatter,
    frequency,
    timeline,
    bands: book.bands(channels, v.from, v.to),
    boundaries,
    impact: await impact,
    retention: await retention,
    funnel: await funnel,
  };
}
