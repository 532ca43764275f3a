// Per (business, channel, bucket) sums for the policy-impact difference-in-differences, aggregated in the
// warehouse. Buckets: the weeks before the change (0 = oldest, counted back from the change date) and one
// bucket for the whole after-window. Everything a send causes counts in its send's bucket: engagements
// through send_id, spam-risk events through attribution, cost and revenue with the send.
import { queryRows, type Warehouse } from '../../warehouse/client.js';
import { attributedRiskSql, attributionWindowParam } from '../sql/attribution.js';
import { DAY_MS } from '../sql/days.js';
import { engagementTimeFilter, perSendEngagementSql } from '../sql/engagement.js';
import { chTime, num, timeParam } from '../sql/values.js';

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

/** The metrics policy-impact accepts: per business per period, ratio of sums over sends of the period. */
export const IMPACT_METRICS: Record<string, ImpactMetric> = {
  opt_outs_per_1k: {
    description: 'attributed opt-outs per 1,000 sends',
    numerator: (s) => s.opt_outs,
    denominator: (s) => s.sends,
    scale: 1000,
    needs: ['risk'],
  },
  blocks_per_1k: { description: 'attributed blocks per 1,000 sends', numerator: (s) => s.blocks, denominator: (s) => s.sends, scale: 1000, needs: ['risk'] },
  spam_reports_per_1k: {
    description: 'attributed spam reports per 1,000 sends',
    numerator: (s) => s.spam_reports,
    denominator: (s) => s.sends,
    scale: 1000,
    needs: ['risk'],
  },
  spam_risk_per_1k: {
    description: 'attributed opt-outs + blocks + spam reports per 1,000 sends',
    numerator: (s) => s.opt_outs + s.blocks + s.spam_reports,
    denominator: (s) => s.sends,
    scale: 1000,
    needs: ['risk'],
  },
  revenue_per_1k: {
    description: 'revenue of converted engagements per 1,000 sends (USD)',
    numerator: (s) => s.revenue_usd,
    denominator: (s) => s.sends,
    scale: 1000,
    needs: ['engagements'],
    engagementTypes: ['converted'],
  },
  net_revenue_per_1k: {
    description: 'revenue of converted engagements minus send cost, per 1,000 sends (USD)',
    numerator: (s) => s.revenue_usd - s.cost_usd,
    denominator: (s) => s.sends,
    scale: 1000,
    needs: ['engagements', 'cost'],
    engagementTypes: ['converted'],
  },
  cost_per_1k: { description: 'send cost per 1,000 sends (USD)', numerator: (s) => s.cost_usd, denominator: (s) => s.sends, scale: 1000, needs: ['cost'] },
  delivery_rate: {
    description: 'delivered sends / sends',
    numerator: (s) => s.delivered,
    denominator: (s) => s.sends,
    scale: 1,
    needs: ['engagements'],
    engagementTypes: ['delivered'],
  },
  read_rate: {
    description: 'read sends / delivered sends',
    numerator: (s) => s.read,
    denominator: (s) => s.delivered,
    scale: 1,
    needs: ['engagements'],
    engagementTypes: ['delivered', 'read'],
  },
  click_rate: {
    description: 'clicked sends / delivered sends',
    numerator: (s) => s.clicked,
    denominator: (s) => s.delivered,
    scale: 1,
    needs: ['engagements'],
    engagementTypes: ['delivered', 'clicked'],
  },
  conversion_rate: {
    description: 'converted sends / delivered sends',
    numerator: (s) => s.converted,
    denominator: (s) => s.delivered,
    scale: 1,
    needs: ['engagements'],
    engagementTypes: ['delivered', 'converted'],
  },
};

export interface ImpactRow extends SendSums {
  business_id: string;
  channel: string;
  bucket: number;
}

const FROM = timeParam('a_from');
const TO = timeParam('a_to');
const CHANGE = timeParam('change');

function impactSql(parts: ReadonlySet<Part>): string {
  const bucket = `if(occurred_at < ${CHANGE}, {pre_weeks:Int32} - 1 - intDiv(toUnixTimestamp64Milli(${CHANGE}) - toUnixTimestamp64Milli(occurred_at) - 1, ${7 * DAY_MS}), {pre_weeks:Int32})`;
  const channels = `channel IN ({treated:String}, {control:String})`;
  const eng = parts.has('engagements');
  const risk = parts.has('risk');
  return `
WITH
  win_sends AS (
    SELECT event_id, business_id, channel, ${bucket} AS bucket, cost_usd
    FROM sends
    WHERE ${channels} AND occurred_at >= ${FROM} AND occurred_at < ${TO}
  ),
  per_send AS (
    SELECT business_id, channel, bucket, count() AS sends, sum(cost_usd) AS cost${
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
    GROUP BY business_id, channel, bucket
  )${
    risk
      ? `,
  risk AS (
    SELECT send_business_id AS business_id, send_channel AS channel, ${bucket.replaceAll('occurred_at', 'send_occurred_at')} AS bucket,
           countIf(risk_type = 'opt_out') AS opt_outs, countIf(risk_type = 'block') AS blocks, countIf(risk_type = 'spam_report') AS spam_reports
    FROM (${attributedRiskSql({ sendColumns: ['business_id', 'channel'], from: FROM, to: TO, channelFilter: channels })})
    GROUP BY business_id, channel, bucket
  )`
      : ''
  }
SELECT p.business_id AS business_id, p.channel AS channel, p.bucket AS bucket, sends, toFloat64(cost) AS cost_usd${
    eng ? ', delivered, read, clicked, converted, toFloat64(revenue) AS revenue_usd' : ''
  }${risk ? ', r.opt_outs AS opt_outs, r.blocks AS blocks, r.spam_reports AS spam_reports' : ''}
FROM per_send AS p${risk ? '\nLEFT JOIN risk AS r ON r.business_id = p.business_id AND r.channel = p.channel AND r.bucket = p.bucket' : ''}
ORDER BY business_id, channel, bucket
SETTINGS join_use_nulls = 0`;
}

export async function impactRows(
  wh: Warehouse,
  q: { metric: ImpactMetric; treated: string; control: string; changeMs: number; windowDays: number; preWeeks: number; attributionWindowHours: number },
): Promise<ImpactRow[]> {
  const rows = await queryRows<Record<string, unknown>>(wh, impactSql(new Set(q.metric.needs)), {
    a_from: chTime(q.changeMs - q.windowDays * DAY_MS),
    a_to: chTime(q.changeMs + q.windowDays * DAY_MS),
    ...attributionWindowParam(q.attributionWindowHours),
    change: chTime(q.changeMs),
    pre_weeks: q.preWeeks,
    treated: q.treated,
    control: q.control,
    engagement_types: q.metric.engagementTypes ?? ['delivered', 'read', 'clicked', 'converted'],
  });
  return rows.map((r) => ({
    business_id: String(r.business_id),
    channel: String(r.channel),
    bucket: num(r.bucket),
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
