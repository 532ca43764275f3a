// What the policy-impact route's designs share: the request, the panel fetch, and the boundary warnings.
import type { Regime } from '../../warehouse/regimes.js';
import type { ImpactMethod } from '../analyses/impact-design.js';
import { impactRows, weeksBefore, type ImpactPanelQuery } from '../analyses/policy-impact-sql.js';
import type { ControlGroup } from '../analyses/staggered.js';
import { clustersFromRows, type PanelLayout } from '../analyses/weekly-panel.js';
import { DAY_MS } from '../sql/days.js';
import type { RouteModule } from './route-module.js';

export interface Query {
  metric: string;
  method?: ImpactMethod;
  treated?: string;
  control?: string;
  change: string;
  window_days: number;
  placebos: number;
  control_group: ControlGroup;
}

export const WEEK_MS = 7 * DAY_MS;
export const isDate = (s: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(s);
export const BOOTSTRAP_TEXT = 'cluster bootstrap by business (all of a business’s rows resampled together), percentile 2.5–97.5';

/** Other boundaries of the treated channels and any control boundary inside the window, in words. */
export function boundaryWarnings(
  regimes: readonly Regime[],
  treated: readonly string[],
  control: readonly string[],
  changeDays: readonly string[],
  fromDay: string,
  endDay: string,
): string[] {
  const out: string[] = [];
  for (const r of regimes) {
    if (r.start <= fromDay || r.start >= endDay) continue;
    if (treated.includes(r.channel) && !changeDays.includes(r.start)) {
      out.push(`The treated channel ${r.channel} also enters regime ${r.regime} on ${r.start}, inside the window.`);
    }
    if (control.includes(r.channel)) {
      out.push(`The control channel ${r.channel} enters regime ${r.regime} on ${r.start}, inside the window: it is not an unchanged control.`);
    }
  }
  return out;
}

export async function panel(wh: Parameters<RouteModule>[1]['wh'], q: ImpactPanelQuery, channels: readonly string[]) {
  const rows = await impactRows(wh, q);
  const layout: PanelLayout = { channels, weeks: weeksBefore(q) + Math.ceil(q.afterDays / 7) };
  const { clusters } = clustersFromRows(
    rows.map((r) => ({ cluster: r.business_id, channel: r.channel, week: r.week, numerator: q.metric.numerator(r), denominator: q.metric.denominator(r) })),
    layout,
  );
  return { layout, clusters };
}
