// The adapter between the API and the charts: which requests each page makes, and how each response becomes
// the flat rows a chart plots (and its CSV and table show). Shape differences between the API and what the
// charts expect are absorbed in these modules and nowhere else. Everything but collect.ts is pure.
//
// This file is the one import for the rest of the dashboards; the parts live beside it: dimensions.ts and
// days.ts (vocabularies, dates), api-responses.ts (answer shapes and normalisers), regime-book.ts, one
// *-rows.ts per page (spam-risk, frequency, timeline, retention, funnel), requests.ts and collect.ts.
export {
  type FrontierPart,
  type FrontierResponse,
  type ImpactCell,
  type ImpactResponse,
  type Interval,
  type QueryResult,
  type RegimeEntry,
  type RetentionResponse,
  dayOf,
  queryResults,
  regimesFrom,
} from './api-responses.js';
export { type CollectOptions, type Loaded, type VariantData, collectExtent, collectRegimes, collectVariant } from './collect.js';
export { addDays, dayMs, isoDay } from '../common/days.js';
export { CHANNELS, FREQUENCIES, FREQUENCY_METRICS, FUNNEL_STAGES, IMPACT_METRICS, type FrequencyMetric, type ImpactMetric } from './dimensions.js';
export { type FrequencyRow, frequencyFrontierRows, frequencyQueryRows, groupLabel } from './frequency-rows.js';
export { type FunnelRow, funnelRows } from './funnel-rows.js';
export { type BandRow, type BoundaryRow, RegimeBook } from './regime-book.js';
export { HORIZON_DAYS, IMPACT_WINDOW_DAYS, QUERY_LIMIT, type Variant, requests } from './requests.js';
export { type RetentionRow, retentionRows } from './retention-rows.js';
export { type ScatterRow, scatterBusinessRows, scatterFrontierRows } from './spam-risk-rows.js';
export { type EventStudyRow, type ImpactRow, type TimelineRow, eventStudyRows, impactRow, timelineRows } from './timeline-rows.js';
