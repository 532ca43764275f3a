// The retention page's rows: Kaplan–Meier steps per frequency from GET /v1/retention.
import { isObj, type RetentionResponse } from './api-responses.js';
import { freqOrder } from './dimensions.js';

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

/** Kaplan–Meier steps per frequency; a day-0 step at survival 1 is added where the API starts later. */
export function retentionRows(body: unknown): RetentionRow[] {
  const r = body as RetentionResponse;
  if (!isObj(r) || !Array.isArray(r.groups)) throw new Error('retention: expected {groups: [...]}');
  const out: RetentionRow[] = [];
  for (const g of [...r.groups].sort((a, b) => freqOrder(a.group) - freqOrder(b.group))) {
    if (!g.group || !g.steps.length) continue;
    if (g.steps[0].day > 0) out.push({ frequency: g.group, day: 0, survival: 1, ci95_lo: 1, ci95_hi: 1, at_risk: g.subjects, events: 0, censored: 0 });
    for (const s of g.steps)
      out.push({
        frequency: g.group,
        day: s.day,
        survival: s.survival,
        ci95_lo: s.ci95[0],
        ci95_hi: s.ci95[1],
        at_risk: s.at_risk,
        events: s.events,
        censored: s.censored,
      });
  }
  return out;
}
