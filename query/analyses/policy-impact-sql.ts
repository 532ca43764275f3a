// Per (business, channel, week) sums for the policy-impact estimators (the weekly panel of weekly-panel.ts),
// aggregated in the warehouse. Weeks are counted from the change date: back from it inside the window (the oldest
// may be shorter), forward from it after (the last may be shorter), and back from the window's start for the
// earlier weeks placebo boundaries read. Everything a send causes counts in its send's week: engagements through
// send_id, spam-risk events through attribution, cost and revenue with the send.
import { queryRows, type Warehouse } from '../../warehouse/client.js';
import { attributedRiskSql, attributionWindowParam } from '../sql/attribution.js';
import { DAY_MS } from '../sql/days.js';
import { engagementTimeFilter, perSendEngagementSql } from '../sql/engagement.js';
import { chTime, num, timeParam } from '../sql/values.js';
import { BASE_MEASURE_NAMES, BASE_MEASURES, METRICS, type BaseMeasure, type BaseValues } from '../metrics/catalog.js';

export interface SendSums {
  sends: number;
  cost_usd: number;
  delivered: number;
  read: number;
  clicked: number;
  converted: number;
  revenue_usd: number;
  opt_outs: number;
  blocks: number;
  spam_reports: number;
}

type Part = 'engagements' | 'risk' | 'cost';
type EngagementType = 'delivered' | 'read' | 'clicked' | 'converted';

export interface ImpactMetric {
  description: string;
  numerator: (s: SendSums) => number;
  denominator: (s: SendSums) => number;
  scale: number;
  needs: readonly Part[];
  /** The engagement types read (only these are scanned). */
  engagementTypes?: readonly EngagementType[];
}

/** A send sum as the catalog's base values (measures policy impact does not read are 0). */
const baseValues = (s: SendSums): BaseValues => ({
  ...(Object.fromEntries(BASE_MEASURE_NAMES.map((m) => [m, 0])) as BaseValues),
  ...s,
});

/** A /v1/query metric with a ratio (query/metrics/catalog.ts) as a policy-impact metric: the same definition. */
function fromCatalog(name: string): ImpactMetric {
  const def = METRICS[name];
  const r = def.ratio;
  if (!r) throw new Error(`${name} is not a ratio metric`);
  const uses = new Set<BaseMeasure>([...def.uses, r.denominator]);
  const types = (['delivered', 'read', 'clicked', 'converted'] as const).filter((t) => uses.has(t) || (t === 'converted' && uses.has('revenue_usd')));
  const needs: Part[] = [];
  if (types.length) needs.push('engagements');
  if ([...uses].some((m) => BASE_MEASURES[m].group === 'spam')) needs.push('risk');
  if (uses.has('cost_usd')) needs.push('cost');
  return {
    description: def.description,
    numerator: (s) => r.numerator(baseValues(s)),
    denominator: (s) => baseValues(s)[r.denominator],
    scale: r.scale,
    needs,
    ...(types.length ? { engagementTypes: types } : {}),
  };
}

/** The metrics policy-impact accepts: per business per period, ratio of sums over sends of the period. */
export const IMPACT_METRICS: Record<string, ImpactMetric> = {
  ...Object.fromEntries(
    [
      'opt_outs_per_1k',
      'blocks_per_1k',
      'spam_reports_per_1k',
      'spam_risk_per_1k',
      'revenue_per_1k',
      'net_revenue_per_1k',
      'delivery_rate',
      'read_rate',
      'click_rate',
      'conversion_rate',
    ].map((name) => [name, fromCatalog(name)]),
  ),
  // Not a /v1/query metric (there, cost_usd is a sum): the one policy-impact metric defined here.
  cost_per_1k: { description: 'cost_usd / sends × 1000.', numerator: (s) => s.cost_usd, denominator: (s) => s.sends, scale: 1000, needs: ['cost'] },
};

export interface ImpactRow extends SendSums {
  business_id: string;
  channel: string;
  week: number;
}

const FROM = timeParam('a_from');
const TO = timeParam('a_to');
const CHANGE = timeParam('change');
const WINDOW_FROM = timeParam('w_from');
const WEEK_MS = 7 * DAY_MS;

/** Week index of a time column: `boundary` is the change's week; weeks before w_from are counted back from it. */
function weekSql(column: string): string {
  const ms = (t: string) => `toUnixTimestamp64Milli(${t})`;
  return `multiIf(${column} >= ${CHANGE}, {boundary:Int32} + intDiv(${ms(column)} - ${ms(CHANGE)}, ${WEEK_MS}),
    ${column} >= ${WINDOW_FROM}, {boundary:Int32} - 1 - intDiv(${ms(CHANGE)} - ${ms(column)} - 1, ${WEEK_MS}),
    {boundary:Int32} - {window_pre_weeks:Int32} - 1 - intDiv(${ms(WINDOW_FROM)} - ${ms(column)} - 1, ${WEEK_MS}))`;
}

/**
 * The business a row counts under: its own inside the window; '' (every business summed) before the window, where
 * only placebo boundaries read the weekly totals, or everywhere when `perBusiness` is false (no bootstrap).
 */
const businessSql = (column: string, time: string, perBusiness: boolean) => (perBusiness ? `if(${time} >= ${WINDOW_FROM}, ${column}, '')` : "''");

function impactSql(parts: ReadonlySet<Part>, perBusiness: boolean): string {
  const week = weekSql('occurred_at');
  const channels = `channel IN {channels:Array(String)}`;
  const eng = parts.has('engagements');
  const risk = parts.has('risk');
  return `
WITH
  win_sends AS (
    SELECT event_id, ${businessSql('business_id', 'occurred_at', perBusiness)} AS business_id, channel, ${week} AS week, cost_usd
    FROM sends
    WHERE ${channels} AND occurred_at >= ${FROM} AND occurred_at < ${TO}
  ),
  per_send AS (
    SELECT business_id, channel, week, count() AS sends, sum(cost_usd) AS cost${
      eng
        ? `,
           sum(e.delivered) AS delivered, sum(e.read) AS read, sum(e.clicked) AS clicked, sum(e.converted) AS converted, sum(e.revenue) AS revenue`
        : ''
    }
    FROM win_sends AS s${
      eng
        ? `
    LEFT JOIN (${perSendEngagementSql(`${channels} AND ${engagementTimeFilter(FROM, TO)} AND type IN {engagement_types:Array(String)}`)}) AS e
      ON e.send_id = s.event_id`
        : ''
    }
    GROUP BY business_id, channel, week
  )${
    risk
      ? `,
  risk AS (
    SELECT ${businessSql('send_business_id', 'send_occurred_at', perBusiness)} AS business_id, send_channel AS channel, ${weekSql('send_occurred_at')} AS week,
           countIf(risk_type = 'opt_out') AS opt_outs, countIf(risk_type = 'block') AS blocks, countIf(risk_type = 'spam_report') AS spam_reports
    FROM (${attributedRiskSql({ sendColumns: ['business_id', 'channel'], from: FROM, to: TO, channelFilter: channels })})
    GROUP BY business_id, channel, week
  )`
      : ''
  }
SELECT p.business_id AS business_id, p.channel AS channel, p.week AS week, sends, toFloat64(cost) AS cost_usd${
    eng ? ', delivered, read, clicked, converted, toFloat64(revenue) AS revenue_usd' : ''
  }${risk ? ', r.opt_outs AS opt_outs, r.blocks AS blocks, r.spam_reports AS spam_reports' : ''}
FROM per_send AS p${risk ? '\nLEFT JOIN risk AS r ON r.business_id = p.business_id AND r.channel = p.channel AND r.week = p.week' : ''}
ORDER BY business_id, channel, week
SETTINGS join_use_nulls = 0`;
}

export interface ImpactPanelQuery {
  metric: ImpactMetric;
  channels: readonly string[];
  changeMs: number;
  /** The window: [change − windowDays, change + afterDays). */
  windowDays: number;
  afterDays: number;
  /** Whole weeks read before the window's start, for placebo boundaries. */
  placeboWeeks: number;
  /**
   * False: one row per channel and week, every business summed (business_id ''), for methods without a bootstrap.
   * True: per business inside the window; the placebo weeks before it are summed over businesses either way.
   */
  perBusiness: boolean;
  attributionWindowHours: number;
}

/** The panel's week count before the change: the window's weeks (the oldest may be shorter) plus the placebo weeks. */
export const weeksBefore = (q: Pick<ImpactPanelQuery, 'windowDays' | 'placeboWeeks'>): number => Math.ceil(q.windowDays / 7) + q.placeboWeeks;

export async function impactRows(wh: Warehouse, q: ImpactPanelQuery): Promise<ImpactRow[]> {
  const windowFrom = q.changeMs - q.windowDays * DAY_MS;
  const rows = await queryRows<Record<string, unknown>>(wh, impactSql(new Set(q.metric.needs), q.perBusiness), {
    a_from: chTime(windowFrom - q.placeboWeeks * WEEK_MS),
    a_to: chTime(q.changeMs + q.afterDays * DAY_MS),
    w_from: chTime(windowFrom),
    ...attributionWindowParam(q.attributionWindowHours),
    change: chTime(q.changeMs),
    boundary: weeksBefore(q),
    window_pre_weeks: Math.ceil(q.windowDays / 7),
    channels: [...q.channels],
    engagement_types: q.metric.engagementTypes ?? ['delivered', 'read', 'clicked', 'converted'],
  });
  return rows.map((r) => ({
    business_id: String(r.business_id),
    channel: String(r.channel),
    week: num(r.week),
    sends: num(r.sends),
    cost_usd: num(r.cost_usd),
    delivered: num(r.delivered),
    read: num(r.read),
    clicked: num(r.clicked),
    converted: num(r.converted),
    revenue_usd: num(r.revenue_usd),
    opt_outs: num(r.opt_outs),
    blocks: num(r.blocks),
    spam_reports: num(r.spam_reports),
  }));
}
