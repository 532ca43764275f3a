// daily_metrics: one row per cell (UTC day, channel, regime, category, frequency of the sends) with sends, cost,
// engagement, revenue and attributed spam-risk events, small cells suppressed. Engagements count by the per-send
// rule (query/sql/engagement.ts) and spam-risk events by attribution (query/sql/attribution.ts), as in /v1/query.
import { FREQUENCIES, SEND_CATEGORIES } from '../../events/types.js';
import { attributedRiskSql } from '../sql/attribution.js';
import { engagementTimeFilter, perSendEngagementSql } from '../sql/engagement.js';
import { commonFields, type DatasetSpec, type ExportField, type SelectContext } from './spec.js';
import { windowBounds, windowSql } from './window.js';

/** A measure of daily_metrics: its definition is also the package's metric definition. */
export interface MetricField extends ExportField {
  unit: string;
}

const count = (name: string, title: string, description: string, required: boolean): MetricField => ({
  name,
  title,
  type: 'integer',
  unit: 'count',
  description,
  constraints: { ...(required ? { required: true } : {}), minimum: 0 },
});
const SUPPRESSED_NOTE = 'Null when the cell is suppressed.';

/**
 * The measures of a cell of sends (daily_metrics, analysis_panel): every metric's numerator and denominator. `note`
 * ends each description; `required` when a measure is never null.
 */
export function measureFields(note: string, required: boolean): MetricField[] {
  const end = note ? ` ${note}` : '';
  const constraints = { ...(required ? { required: true } : {}), minimum: 0 };
  return [
    count('sends', 'Sends', `Sends in the cell.${end}`, required),
    {
      name: 'cost_usd',
      title: 'Cost',
      type: 'number',
      unit: 'USD',
      description: `Sum of cost_usd of the cell's sends, USD.${end}`,
      constraints,
    },
    ...(['delivered', 'read', 'clicked', 'replied', 'converted'] as const).map((t) =>
      count(
        t,
        t[0].toUpperCase() + t.slice(1),
        `Sends of the cell with at least one "${t}" engagement (joined by send_id, however late; with a from date, not earlier than a day before it); a send counts once however many it has.${end}`,
        required,
      ),
    ),
    {
      name: 'revenue_usd',
      title: 'Revenue',
      type: 'number',
      unit: 'USD',
      description: `Sum of revenue_usd of the converted engagements of the cell's sends, USD.${end}`,
      constraints,
    },
    ...(
      [
        ['opt_outs', 'Opt-outs', 'opt_out'],
        ['blocks', 'Blocks', 'block'],
        ['spam_reports', 'Spam reports', 'spam_report'],
      ] as const
    ).map(([name, title, type]) =>
      count(
        name,
        title,
        `${type} events attributed to the cell's sends: each counts against the latest send from the same business to the same person on the same channel at or before it, if that send is at most the attribution window (package property policylens.attribution_window_hours) earlier; of sends in the same millisecond, the one with the larger event_id. Events with no such send are not in any cell (the subscriptions export has them all).${end}`,
        required,
      ),
    ),
  ];
}

export const DAILY_METRICS: MetricField[] = measureFields(SUPPRESSED_NOTE, false);

const DIMENSIONS: ExportField[] = [
  { name: 'day', type: 'date', description: 'UTC day of the sends.', constraints: { required: true } },
  commonFields.channel,
  {
    name: 'regime',
    type: 'string',
    description: 'Policy regime stored with the sends (see the sends dataset).',
    constraints: { required: true, maxLength: 64 },
  },
  { name: 'category', type: 'string', description: 'Send category.', constraints: { required: true, enum: SEND_CATEGORIES } },
  {
    name: 'frequency',
    type: 'string',
    description: 'Frequency of recurring notifications; null for every other category, and where the frequency is not known.',
    constraints: { enum: FREQUENCIES },
  },
  {
    name: 'suppressed',
    type: 'boolean',
    description:
      'True when the cell has fewer sends than the small-cell threshold (package property policylens.min_cell): every measure of the row is then null. The row itself is kept so that the cell is known to exist.',
    constraints: { required: true },
  },
];

/**
 * Engine settings of the datasets of cells of sends: the engagements of every send are aggregated and joined, so
 * spill to disk past 64 MiB instead of growing with the table (measured on 2M sends and 3M engagements: RSS growth
 * +560 MB without, about +210 MB with).
 */
export const CELL_SETTINGS = {
  max_bytes_before_external_group_by: 64 * 1024 * 1024,
  join_algorithm: 'grace_hash',
  grace_hash_join_initial_buckets: 16,
  max_bytes_in_join: 64 * 1024 * 1024,
};

export const DAILY: DatasetSpec = {
  name: 'daily_metrics',
  title: 'Daily metrics',
  description:
    'Sends, cost, engagement, revenue and spam-risk events per UTC day, channel, regime, category and frequency of the sends, with small cells suppressed. Engagements and spam-risk events are counted on the day and in the cell of the send they belong to. No identifiers.',
  identifiers: false,
  table: 'sends',
  aggregated: { by: 'send day', order: 'day, channel, regime, category and frequency', suppressed: true },
  fields: [...DIMENSIONS, ...DAILY_METRICS],
  select: (ctx) => dailyMetricsSelect(ctx),
  settings: CELL_SETTINGS,
};

function dailyMetricsSelect({ window }: SelectContext): string {
  const bounds = windowBounds(window);
  const measures = DAILY_METRICS.map(
    (m) => `if(suppressed, NULL, ${m.name === 'cost_usd' || m.name === 'revenue_usd' ? `n_${m.name}` : `toUInt64(n_${m.name})`}) AS ${m.name}`,
  );
  // Engagements are read however late they come (no upper bound). (An IN-set of the window's send ids would be
  // exact but would hold them all in memory.)
  const engagements = perSendEngagementSql(engagementTimeFilter(bounds.from, null));
  const risk = attributedRiskSql({ sendColumns: ['channel', 'regime', 'category', 'frequency'], ...bounds });
  return `SELECT day, channel, regime, category, nullIf(frequency, '') AS frequency,
       CAST(n_sends < {pl_min_cell:UInt64}, 'Bool') AS suppressed,
       ${measures.join(',\n       ')}
FROM
(
    SELECT toDate(s.occurred_at) AS day, s.channel AS channel, s.regime AS regime, s.category AS category, s.frequency AS frequency,
           count() AS n_sends, sum(s.cost_usd) AS n_cost_usd,
           countIf(e.delivered) AS n_delivered, countIf(e.read) AS n_read, countIf(e.clicked) AS n_clicked,
           countIf(e.replied) AS n_replied, countIf(e.converted) AS n_converted,
           toDecimal128(sum(e.revenue), 6) AS n_revenue_usd
    FROM (SELECT event_id, occurred_at, channel, regime, category, frequency, cost_usd FROM sends WHERE ${windowSql(window)}) AS s
    LEFT JOIN (${engagements}) AS e ON e.send_id = s.event_id
    GROUP BY day, channel, regime, category, frequency
) AS c
LEFT JOIN
(
    SELECT toDate(a.send_occurred_at) AS day, a.send_channel AS channel, a.send_regime AS regime, a.send_category AS category,
           a.send_frequency AS frequency,
           countIf(a.risk_type = 'opt_out') AS n_opt_outs, countIf(a.risk_type = 'block') AS n_blocks,
           countIf(a.risk_type = 'spam_report') AS n_spam_reports
    FROM (${risk}) AS a
    GROUP BY day, channel, regime, category, frequency
) AS r USING (day, channel, regime, category, frequency)
ORDER BY day, channel, regime, category, frequency`;
}
