// Request and response pieces the analysis endpoints (frequency frontier, retention, policy impact) share.
import { CHANNELS } from '../../events/types.js';
import { DATE_PATTERN, MAX_RANGE_DAYS, type DayLimits } from '../sql/days.js';

export const dateSchema = { type: 'string', pattern: DATE_PATTERN, description: 'UTC date, YYYY-MM-DD' } as const;
export const channelSchema = { type: 'string', enum: [...CHANNELS] } as const;

/** Limits of an analysis's from..to (docs/analyses.md): at most ten years, no bounds of their own. */
export const ANALYSIS_DAYS: DayLimits = { maxDays: MAX_RANGE_DAYS };

/** Estimate-with-interval shape shared by the analysis responses. */
export const estimateSchema = {
  type: 'object',
  required: ['estimate', 'ci95'],
  properties: {
    estimate: { type: ['number', 'null'] },
    ci95: { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 },
  },
} as const;
