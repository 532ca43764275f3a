// analysis_panel: one row per (week, business, channel, regime) of sends, with every metric's numerator and
// denominator: the panel the policy-impact estimators read (docs/analyses.md), so an estimate can be reproduced in
// R or Python. Businesses are pseudonymised; cells are not suppressed (the rows identify businesses anyway, so the
// export needs the secret and the researcher role, as the event-level datasets). Engagements and spam-risk events
// count in the cell of their send, by the rules of daily_metrics.
import { attributedRiskSql } from '../sql/attribution.js';
import { engagementTimeFilter, perSendEngagementSql } from '../sql/engagement.js';
import { CELL_SETTINGS, measureFields } from './daily-metrics.js';
import { SQL_KEY_PADS, sqlPseudonym } from './pseudonym.js';
import { commonFields, type DatasetSpec, type ExportField, type SelectContext } from './spec.js';
import { windowBounds, windowSql, type ExportWindow } from './window.js';

export const PANEL_MEASURES = measureFields('', true);

const DIMENSIONS: ExportField[] = [
  {
    name: 'week',
    type: 'date',
    description:
      'First UTC day of the 7-day week of the sends: weeks are counted from the export window’s from date (every 7 days from it), or start on Mondays when the export has no from date. Export from a policy change minus a whole number of weeks to get the weeks /v1/policy-impact uses.',
    constraints: { required: true },
  },
  commonFields.businessId,
  commonFields.channel,
  {
    name: 'regime',
    type: 'string',
    description: 'Policy regime stored with the sends (see the sends dataset). A week that spans a regime boundary has one row per regime.',
    constraints: { required: true, maxLength: 64 },
  },
];

/** The week of a send-time column: counted from the window's start, or Monday weeks. */
function weekSql(window: ExportWindow, column: string): string {
  const from = windowBounds(window).from;
  return from === null ? `toMonday(toDate(${column}))` : `toDate(${from}) + toIntervalDay(intDiv(dateDiff('day', toDate(${from}), toDate(${column})), 7) * 7)`;
}

function panelSelect({ window }: SelectContext): string {
  const bounds = windowBounds(window);
  const measures = PANEL_MEASURES.map((m) => {
    const sum = m.name === 'cost_usd' || m.name === 'revenue_usd' ? `n_${m.name}` : `toUInt64(n_${m.name})`;
    return `${sum} AS ${m.name}`;
  });
  const engagements = perSendEngagementSql(engagementTimeFilter(bounds.from, null));
  const risk = attributedRiskSql({ sendColumns: ['business_id', 'channel', 'regime'], ...bounds });
  return `${SQL_KEY_PADS}
SELECT week, ${sqlPseudonym('business_id', 'business')} AS business_id, channel, regime,
       ${measures.join(',\n       ')}
FROM
(
    SELECT ${weekSql(window, 's.occurred_at')} AS week, s.business_id AS business_id, s.channel AS channel, s.regime AS regime,
           count() AS n_sends, sum(s.cost_usd) AS n_cost_usd,
           countIf(e.delivered) AS n_delivered, countIf(e.read) AS n_read, countIf(e.clicked) AS n_clicked,
           countIf(e.replied) AS n_replied, countIf(e.converted) AS n_converted,
           toDecimal128(sum(e.revenue), 6) AS n_revenue_usd
    FROM (SELECT event_id, occurred_at, business_id, channel, regime, cost_usd FROM sends WHERE ${windowSql(window)}) AS s
    LEFT JOIN (${engagements}) AS e ON e.send_id = s.event_id
    GROUP BY week, business_id, channel, regime
) AS c
LEFT JOIN
(
    SELECT ${weekSql(window, 'a.send_occurred_at')} AS week, a.send_business_id AS business_id, a.send_channel AS channel, a.send_regime AS regime,
           countIf(a.risk_type = 'opt_out') AS n_opt_outs, countIf(a.risk_type = 'block') AS n_blocks,
           countIf(a.risk_type = 'spam_report') AS n_spam_reports
    FROM (${risk}) AS a
    GROUP BY week, business_id, channel, regime
) AS r USING (week, business_id, channel, regime)
ORDER BY week, business_id, channel, regime`;
}

export const ANALYSIS_PANEL: DatasetSpec = {
  name: 'analysis_panel',
  title: 'Analysis panel',
  description:
    'Sends, cost, engagement, revenue and attributed spam-risk events per week, business, channel and regime of the sends: every metric’s numerator and denominator (docs/metrics.md), the panel GET /v1/policy-impact estimates from. Businesses are pseudonymised.',
  identifiers: true,
  table: 'sends',
  aggregated: { by: 'send day', order: 'week, business_id, channel and regime', suppressed: false },
  primaryKey: ['week', 'business_id', 'channel', 'regime'],
  fields: [...DIMENSIONS, ...PANEL_MEASURES],
  select: (ctx) => panelSelect(ctx),
  settings: CELL_SETTINGS,
};
