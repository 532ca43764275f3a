// Fetching what a variant needs: each chart's requests made, their answers turned into rows, and an API error
// kept as the chart's message instead of failing the whole build.
import { isObj, queryResults, regimesFrom, type FrontierPart, type FrontierResponse, type QueryResult, type RegimeEntry } from './api-responses.js';
import { addDays, dayMs, isoDay } from '../common/days.js';
import { CHANNELS, channelOrder, FREQUENCY_METRICS, IMPACT_METRICS, type FrequencyMetric, type ImpactMetric } from './dimensions.js';
import { frequencyFrontierRows, frequencyQueryRows, type FrequencyRow } from './frequency-rows.js';
import { funnelRows, type FunnelRow } from './funnel-rows.js';
import { RegimeBook, type BandRow, type BoundaryRow } from './regime-book.js';
import { IMPACT_WINDOW_DAYS, QUERY_LIMIT, requests, type Variant } from './requests.js';
import { retentionRows, type RetentionRow } from './retention-rows.js';
import { ApiRequestError, type ApiRequest, type Source } from './source.js';
import { scatterBusinessRows, scatterFrontierRows, type ScatterRow } from './spam-risk-rows.js';
import { eventStudyRows, impactRow, timelineRows, type EventStudyRow, type ImpactRow, type TimelineRow } from './timeline-rows.js';

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
  eventStudy: Loaded<EventStudyRow[]>;
  retention: Loaded<RetentionRow[]>;
  funnel: Loaded<FunnelRow[]>;
}

const FROM_FRONTIER: readonly string[] = ['net_revenue_per_send', 'expected_net_revenue_per_subscriber'];

export interface CollectOptions {
  /** Businesses with fewer sends in a regime and frequency are left off the scatter (too noisy to read). */
  minSends: number;
  now: () => Date;
}

function message(err: unknown): string {
  if (err instanceof ApiRequestError)
    return `${err.code} (${err.status}) from ${err.request.method} ${err.request.path}: ${err.message.replace(/^[^:]*: \d+ [A-Z_]+: /, '')}`;
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
  if (meta.truncated === true)
    notes.push(`The API answered with ${String(meta.rows)} of ${String(meta.total_rows)} rows (its limit is ${QUERY_LIMIT}): only those are plotted.`);
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
        if (channels.includes(e.channel) && e.start <= v.to && (e.end === null || e.end > v.from))
          pairs.set(`${e.regime}\u0000${e.channel}`, { regime: e.regime, channel: e.channel });
      }
    }
    const parts = await Promise.all(
      [...pairs.values()].map(async ({ regime, channel }): Promise<FrontierPart | null> => {
        const e = book.of(channel, regime);
        if (!e) return null;
        // biome-ignore lint/complexity/useMathMinMax: ISO days, compared as strings
        const from = e.start > v.from ? e.start : v.from;
        const last = e.end === null ? v.to : addDays(e.end, -1);
        // biome-ignore lint/complexity/useMathMinMax: ISO days, compared as strings
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
  const impactAll = load(now, async () => {
    const rows: ImpactRow[] = [];
    const weeks: EventStudyRow[] = [];
    const skipped: string[] = [];
    await Promise.all(
      boundaries.flatMap((b) => {
        if (addDays(b.date, -IMPACT_WINDOW_DAYS) < v.from || addDays(b.date, IMPACT_WINDOW_DAYS - 1) > v.to) {
          skipped.push(`${b.date} ${b.channel}: the ${IMPACT_WINDOW_DAYS}-day windows around it are not both inside ${v.from}..${v.to}`);
          return [];
        }
        return IMPACT_METRICS.map(async (metric) => {
          try {
            const body = await src.request(requests.impact(metric, b.channel, b.date));
            const row = impactRow(body, book);
            rows.push(row);
            // A DiD's week-by-week view is an event study of the same design; an interrupted time series has its own weeks.
            weeks.push(...eventStudyRows(row.method === 'did' ? await src.request(requests.eventStudy(metric, b.channel, b.date)) : body, row));
          } catch (err) {
            skipped.push(`${b.date} ${b.channel} ${metric}: ${message(err)}`);
          }
        });
      }),
    );
    if (!rows.length && skipped.length) throw new Error(skipped.join('; '));
    rows.sort((a, b) => a.metric.localeCompare(b.metric) || a.change_date.localeCompare(b.change_date) || channelOrder(a.treated) - channelOrder(b.treated));
    weeks.sort(
      (a, b) =>
        a.metric.localeCompare(b.metric) ||
        a.change_date.localeCompare(b.change_date) ||
        channelOrder(a.treated) - channelOrder(b.treated) ||
        a.relative_week - b.relative_week,
    );
    return { rows, weeks, skipped: skipped.sort() };
  });
  const impact = impactAll.then((l): Loaded<ImpactRow[]> => ({ ...l, rows: l.rows?.rows ?? null, notes: l.rows?.skipped ?? [] }));
  const eventStudy = impactAll.then((l): Loaded<EventStudyRow[]> => ({ ...l, rows: l.rows?.weeks ?? null, notes: l.rows?.skipped ?? [] }));

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
    eventStudy: await eventStudy,
    retention: await retention,
    funnel: await funnel,
  };
}
