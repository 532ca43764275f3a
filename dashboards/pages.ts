// The five dashboards: which charts each has, with their titles, the rows they plot, how they draw and
// describe them, and the columns of their CSV and table.
import type { Unit } from './charts/common.js';
import { describeFrequency, frequencyChart } from './charts/frequency.js';
import { describeFunnel, funnelChart } from './charts/funnel.js';
import { describeEventStudy, eventStudyChart } from './charts/event-study.js';
import { describeImpact, impactChart } from './charts/impact.js';
import { describeRetention, retentionChart } from './charts/retention.js';
import { describeSpamRevenue, spamRevenueChart } from './charts/spam-revenue.js';
import { describeTimeline, timelineChart } from './charts/timeline.js';
import type { FrequencyMetric, ImpactMetric, ImpactRow, Loaded, VariantData } from './data.js';
import { HORIZON_DAYS, IMPACT_WINDOW_DAYS } from './data.js';

export type Row = object;

export interface ChartDef {
  id: string;
  title: string;
  /** One or two sentences under the title: what is measured and how. */
  about: string;
  loaded: Loaded<Row[]>;
  columns: readonly string[];
  render(rows: Row[], document: Document): Element;
  describe(rows: Row[]): string;
  /** Said instead of a chart when there are no rows. */
  empty: string;
}

export interface PageDef {
  slug: string;
  title: string;
  summary: string;
  charts: ChartDef[];
  /** Only the timeline has one: the chosen boundary's estimates in detail. */
  impactDetails?: ImpactRow[];
}

export const PAGES = [
  {
    slug: 'spam-risk',
    title: 'Spam risk vs revenue',
    summary: 'Each business and frequency: spam-risk events against net revenue per 1k sends, per regime, with the frequency frontier.',
  },
  {
    slug: 'frequency',
    title: 'Frequency',
    summary: 'Opt-outs, read and click rates, net revenue per send and expected revenue per subscriber by frequency, with 95% intervals, per regime.',
  },
  {
    slug: 'timeline',
    title: 'Policy timeline',
    summary: 'Weekly opt-outs and net revenue per 1k sends per channel across the policy regimes, with the difference-in-differences at each boundary.',
  },
  { slug: 'retention', title: 'Retention', summary: 'Kaplan–Meier survival of subscriptions (to the first opt-out or block) by frequency, with 95% bands.' },
  { slug: 'funnel', title: 'Funnel', summary: 'Sent → delivered → read → clicked → converted, by channel and send category.' },
] as const;

const PREVIOUS =
  'Hollow dots and thin bars just below: the same number of days before the period, where it had sends; the table and CSV give the change with its 95% interval (include.comparisons).';

const FREQUENCY_DEFS: Record<FrequencyMetric, { title: string; label: string; unit: Unit; about: string }> = {
  opt_outs_per_1k: {
    title: 'Opt-outs per 1k sends',
    label: 'Opt-outs per 1k sends',
    unit: 'per_1k',
    about: `Opt-outs attributed to a send (within the attribution window) per 1,000 sends of the frequency; POST /v1/query. ${PREVIOUS}`,
  },
  read_rate: { title: 'Read rate', label: 'Read rate (read / delivered)', unit: 'rate', about: `Sends read over sends delivered; POST /v1/query. ${PREVIOUS}` },
  click_rate: {
    title: 'Click rate',
    label: 'Click rate (clicked / delivered)',
    unit: 'rate',
    about: `Sends clicked over sends delivered; POST /v1/query. ${PREVIOUS}`,
  },
  net_revenue_per_send: {
    title: 'Net revenue per send',
    label: 'Net revenue per send (USD)',
    unit: 'usd',
    about: 'Revenue of converted engagements minus send cost, per send; cluster-bootstrap interval by business; GET /v1/frequency-frontier.',
  },
  expected_net_revenue_per_subscriber: {
    title: `Expected net revenue per subscriber over ${HORIZON_DAYS} days`,
    label: `Expected net revenue per subscriber, ${HORIZON_DAYS} days (USD)`,
    unit: 'usd',
    about: `Net revenue per day of subscription weighted by the chance the subscriber is still there (constant opt-out hazard), summed over ${HORIZON_DAYS} days; GET /v1/frequency-frontier.`,
  },
};

export const TIMELINE_DEFS: Record<ImpactMetric, { title: string; label: string; unit: Unit }> = {
  opt_outs_per_1k: { title: 'Weekly opt-outs per 1k sends', label: 'opt-outs per 1k sends', unit: 'per_1k' },
  net_revenue_per_1k: { title: 'Weekly net revenue per 1k sends', label: 'net revenue per 1k sends (USD)', unit: 'usd_per_1k' },
};

const cols = {
  scatter: ['layer', 'regime', 'regime_label', 'frequency', 'business_id', 'sends', 'spam_risk_per_1k', 'net_revenue_per_1k'],
  frequency: [
    'group',
    'regime',
    'channel',
    'frequency',
    'metric',
    'value',
    'ci95_lo',
    'ci95_hi',
    'sends',
    'previous_value',
    'previous_ci95_lo',
    'previous_ci95_hi',
    'change',
    'change_ci95_lo',
    'change_ci95_hi',
  ],
  timeline: ['week', 'channel', 'regime', 'metric', 'value', 'ci95_lo', 'ci95_hi', 'sends'],
  impact: [
    'metric',
    'change_date',
    'treated',
    'control',
    'regime',
    'label',
    'method',
    'method_reason',
    'estimate',
    'ci95_lo',
    'ci95_hi',
    'treated_before',
    'treated_after',
    'control_before',
    'control_after',
    'pre_trend_slope_per_week',
    'parallel_trends_plausible',
    'randomisation_p',
    'warnings',
  ],
  eventStudy: ['metric', 'change_date', 'treated', 'label', 'method', 'relative_week', 'estimate', 'ci95_lo', 'ci95_hi'],
  retention: ['frequency', 'day', 'survival', 'ci95_lo', 'ci95_hi', 'at_risk', 'events', 'censored'],
  funnel: ['channel', 'category', 'stage', 'stage_index', 'count', 'share_of_sends'],
} as const;

/** The chart definitions of every page for one variant's data. Casts are confined to this table. */
export function pagesFor(data: VariantData, opts: { minSends: number; width?: number }): PageDef[] {
  const v = data.variant;
  const width = opts.width;
  const anyRows = <T>(f: (rows: T[], d: Document) => Element) => f as unknown as (rows: Row[], d: Document) => Element;
  const anyDescribe = <T>(f: (rows: T[]) => string) => f as unknown as (rows: Row[]) => string;
  const recurringOnly = v.channel === 'whatsapp' ? ' WhatsApp sends carry no frequency (only recurring notifications on Messenger and Instagram do).' : '';

  const impactFor = (metric: ImpactMetric): Loaded<Row[]> => ({ ...data.impact, rows: data.impact.rows?.filter((r) => r.metric === metric) ?? null });
  const eventStudyFor = (metric: ImpactMetric): Loaded<Row[]> => ({
    ...data.eventStudy,
    rows: data.eventStudy.rows?.filter((r) => r.metric === metric) ?? null,
  });

  return [
    {
      ...PAGES[0],
      charts: [
        {
          id: 'scatter',
          title: 'Spam risk vs net revenue per business and frequency',
          about: `Each dot is one business at one frequency in one regime (size: sends; businesses with fewer than ${opts.minSends} sends there are left out). Diamonds joined by a line: the frequency frontier, the regime’s totals per frequency. POST /v1/query and GET /v1/frequency-frontier.`,
          loaded: data.scatter,
          columns: cols.scatter,
          render: anyRows((rows, document) => spamRevenueChart(rows as never, { document, width, minSends: opts.minSends })),
          describe: anyDescribe((rows) => describeSpamRevenue(rows as never, { minSends: opts.minSends })),
          empty: `No recurring-notification sends in this selection.${recurringOnly}`,
        },
      ],
    },
    {
      ...PAGES[1],
      charts: (Object.keys(FREQUENCY_DEFS) as FrequencyMetric[]).map((metric) => {
        const d = FREQUENCY_DEFS[metric];
        return {
          id: metric.replace(/_/g, '-'),
          title: d.title,
          about: d.about,
          loaded: data.frequency[metric],
          columns: cols.frequency,
          render: anyRows((rows, document) => frequencyChart(rows as never, { document, width, label: d.label, unit: d.unit })),
          describe: anyDescribe((rows) => describeFrequency(rows as never, { label: d.label, unit: d.unit })),
          empty: `No recurring-notification sends in this selection.${recurringOnly}`,
        };
      }),
    },
    {
      ...PAGES[2],
      impactDetails: data.impact.rows ?? [],
      charts: [
        ...(Object.keys(TIMELINE_DEFS) as ImpactMetric[]).map((metric) => {
          const d = TIMELINE_DEFS[metric];
          return {
            id: `weekly-${metric.replace(/_/g, '-')}`,
            title: d.title,
            about:
              'Per channel, by the week of the send; shaded bands are the policy regimes, dashed rules their boundaries; the light band is the 95% interval (cut off where it leaves the range of the weekly values). POST /v1/query.',
            loaded: data.timeline[metric],
            columns: cols.timeline,
            render: anyRows((rows, document) =>
              timelineChart(rows as never, {
                document,
                width,
                label: d.label,
                unit: d.unit,
                bands: data.bands,
                boundaries: data.boundaries,
                from: v.from,
                to: v.to,
              }),
            ),
            describe: anyDescribe((rows) => describeTimeline(rows as never, { label: d.label, unit: d.unit, boundaries: data.boundaries })),
            empty: 'No sends in this selection.',
          } satisfies ChartDef;
        }),
        ...(Object.keys(TIMELINE_DEFS) as ImpactMetric[]).map((metric) => {
          const d = TIMELINE_DEFS[metric];
          return {
            id: `impact-${metric.replace(/_/g, '-')}`,
            title: `Policy impact on ${d.label}`,
            about: `The effect at each boundary, ${IMPACT_WINDOW_DAYS} days either side, by the method the API chose and names in each label: a difference in differences (the treated channel’s change minus that of the channels with no boundary in the window; 95% cluster-bootstrap interval by business) or, when every channel changed, an interrupted time series (the level change against the channel’s own trend; Newey–West interval). The table gives each method’s reason and the placebo p-value. GET /v1/policy-impact.`,
            loaded: impactFor(metric),
            columns: cols.impact,
            render: anyRows((rows, document) => impactChart(rows as never, { document, width, label: d.label, unit: d.unit })),
            describe: anyDescribe((rows) => describeImpact(rows as never, { label: d.label, unit: d.unit })),
            empty: `No boundary in this selection has ${IMPACT_WINDOW_DAYS} days of data on both sides.`,
          } satisfies ChartDef;
        }),
        ...(Object.keys(TIMELINE_DEFS) as ImpactMetric[]).map((metric) => {
          const d = TIMELINE_DEFS[metric];
          return {
            id: `event-study-${metric.replace(/_/g, '-')}`,
            title: `Event study of ${d.label}`,
            about: `Week by week around each boundary (dashed line: the change): for a difference in differences, the treated minus control gap relative to the week before the change, with 95% cluster-bootstrap intervals (weeks before the change near 0 support parallel trends); for an interrupted time series, each week’s value minus the pre-change trend carried on. GET /v1/policy-impact?method=event_study.`,
            loaded: eventStudyFor(metric),
            columns: cols.eventStudy,
            render: anyRows((rows, document) => eventStudyChart(rows as never, { document, width, label: d.label, unit: d.unit })),
            describe: anyDescribe((rows) => describeEventStudy(rows as never, { label: d.label, unit: d.unit })),
            empty: `No boundary in this selection has ${IMPACT_WINDOW_DAYS} days of data on both sides.`,
          } satisfies ChartDef;
        }),
      ],
    },
    {
      ...PAGES[3],
      charts: [
        {
          id: 'survival',
          title: 'Subscription survival by frequency',
          about:
            'Share of subscribers (business, user, channel) with no opt-out or block yet, by days since their first opt-in in the period; log-log 95% band; censored at the end of the data. GET /v1/retention.',
          loaded: data.retention,
          columns: cols.retention,
          render: anyRows((rows, document) => retentionChart(rows as never, { document, width })),
          describe: anyDescribe((rows) => describeRetention(rows as never)),
          empty: 'No opt-ins in this selection.',
        },
      ],
    },
    {
      ...PAGES[4],
      charts: [
        {
          id: 'stages',
          title: 'Share of sends reaching each stage',
          about: 'Per channel and send category: sends, then the sends delivered, read, clicked and converted, as a share of sends. POST /v1/query.',
          loaded: data.funnel,
          columns: cols.funnel,
          render: anyRows((rows, document) => funnelChart(rows as never, { document, width })),
          describe: anyDescribe((rows) => describeFunnel(rows as never)),
          empty: 'No sends in this selection.',
        },
      ],
    },
  ];
}
