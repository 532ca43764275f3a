// The /v1/query request: its JSON Schema (shape only) and the checks that need the catalog (names, dates, order).
// What comes out is a NormalizedQuery whose names are all catalog entries, whose dates are resolved days and whose
// values stay values (never SQL). normalizeQuery is the one place a request becomes a query: two requests that
// normalise alike get the same answer.
import { documentedEnum } from '../documented-enum.js';
import { ApiError } from '../../common/errors.js';
import { checkDayRange, type DayLimits } from '../sql/days.js';
import { DIMENSIONS, DIMENSION_NAMES, METRIC_NAMES, isDimension, isMetric } from './catalog.js';
import {
  COMPARISON_MODES,
  comparisonPeriod,
  isRelativeRange,
  RELATIVE_RANGES,
  resolveRelativeRange,
  type ComparisonMode,
  type Extent,
  type RelativeRange,
} from './date-range.js';

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 1_000;
export const MAX_OFFSET = 1_000_000_000;
export const MAX_FILTERS = 20;
export const MAX_FILTER_VALUES = 1_000;
export const MAX_DIMENSIONS = 6;
/**
 * The cap on cost: groups a query may hold in memory to zero-fill or compare, before the page is cut. The length of
 * the range is not capped (the rollups' cost grows with the data, not the days): "all" over decades of days by
 * month, or a few years by day, stays far below it.
 */
export const MAX_GROUPS = 200_000;
/** Dates the warehouse's Date type can hold. */
const FIRST_DAY = '1970-01-01';
export const QUERY_DAYS: DayLimits = { min: FIRST_DAY, max: '2149-06-05' };

export type FilterOp = 'is' | 'is_not';
export type Filter = [FilterOp, string, (string | null)[]];
export type OrderBy = [string, 'asc' | 'desc'];

export interface QueryRequest {
  metrics: string[];
  dimensions?: string[];
  date_range: [string, string] | RelativeRange;
  filters?: Filter[];
  order_by?: OrderBy[];
  limit?: number;
  pagination?: { limit?: number; offset?: number };
  include?: { comparisons?: { mode: ComparisonMode }; time_labels?: boolean };
}

export interface NormalizedQuery {
  metrics: string[];
  dimensions: string[];
  from: string;
  to: string;
  filters: { op: FilterOp; dimension: string; values: (string | null)[] }[];
  orderBy: { key: string; dir: 'asc' | 'desc'; kind: 'metric' | 'dimension' }[];
  limit: number;
  offset: number;
  /** The other period of include.comparisons, resolved to days. */
  comparison: { mode: ComparisonMode; from: string; to: string } | null;
  /** include.time_labels: every bucket of the time dimension is in the answer. */
  timeLabels: boolean;
}

export interface NormalizeContext {
  /** The warehouse's extent (query/metrics/extent.ts); needed only when needsExtent(request). null: no events. */
  extent?: Extent | null;
  /** YYYY-MM-DD; relative ranges end on it when the warehouse is empty. Default: today (UTC). */
  today?: string;
}

/** Whether normalising the request needs the warehouse's extent (a relative date_range). */
export const needsExtent = (req: Pick<QueryRequest, 'date_range'>): boolean => isRelativeRange(req.date_range);

const name = { type: 'string', minLength: 1, maxLength: 64 } as const;
// The catalog's names are documented as enums but checked in normalizeQuery, which answers UNKNOWN_METRIC and
// UNKNOWN_DIMENSION (docs/api.md) where a schema enum would answer BAD_REQUEST.
const metricName = documentedEnum(METRIC_NAMES, name);
const dimensionName = documentedEnum(DIMENSION_NAMES, name);
const filterDimensionName = documentedEnum(
  DIMENSION_NAMES.filter((d) => DIMENSIONS[d].filterable),
  name,
);
const orderKey = documentedEnum([...METRIC_NAMES, ...DIMENSION_NAMES], name);

export const queryRequestSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['metrics', 'date_range'],
  properties: {
    metrics: {
      type: 'array',
      minItems: 1,
      maxItems: METRIC_NAMES.length,
      uniqueItems: true,
      items: metricName,
      description: `Metric names (docs/metrics.md): ${METRIC_NAMES.join(', ')}. Every rate and per-1k metric also gets <name>_ci95.`,
    },
    dimensions: {
      type: 'array',
      maxItems: MAX_DIMENSIONS,
      uniqueItems: true,
      items: dimensionName,
      description: `Group by these, in this order: ${DIMENSION_NAMES.join(', ')}.`,
    },
    date_range: {
      anyOf: [
        { type: 'array', minItems: 2, maxItems: 2, items: { type: 'string', maxLength: 32 } },
        // Checked in normalizeQuery, so that an unknown range answers INVALID_DATE_RANGE like an unknown date.
        documentedEnum(RELATIVE_RANGES, { type: 'string', maxLength: 32 }),
      ],
      description:
        '[from, to], both YYYY-MM-DD, inclusive, UTC, by the day of the send; or a range ending on the last day with events: ' +
        '"7d", "30d" (that many days), "month", "year" (since the first of its month, year), "6mo", "12mo" (that many ' +
        'calendar months, the last one to date), "all" (first to last day with events).',
    },
    filters: {
      type: 'array',
      maxItems: MAX_FILTERS,
      description: '["is" | "is_not", dimension, [values]]; a value may be null (no frequency, campaign or topic). All filters must hold.',
      items: {
        type: 'array',
        minItems: 3,
        maxItems: 3,
        items: [
          { type: 'string', enum: ['is', 'is_not'] },
          filterDimensionName,
          { type: 'array', minItems: 1, maxItems: MAX_FILTER_VALUES, items: { type: ['string', 'null'], maxLength: 256 } },
        ],
        additionalItems: false,
      },
    },
    order_by: {
      type: 'array',
      maxItems: 16,
      description: '[[metric or dimension of this query, "asc" | "desc"], …]; ties are broken by the dimensions in order.',
      items: { type: 'array', minItems: 2, maxItems: 2, items: [orderKey, { type: 'string', enum: ['asc', 'desc'] }], additionalItems: false },
    },
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `At most ${MAX_LIMIT} rows (default ${DEFAULT_LIMIT}); or pagination.limit.` },
    pagination: {
      type: 'object',
      additionalProperties: false,
      description: 'A page of the ordered groups: rows offset+1 .. offset+limit. Pages of one query concatenate to the whole answer.',
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `At most ${MAX_LIMIT} rows (default ${DEFAULT_LIMIT}).` },
        offset: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, description: 'Groups to skip (default 0).' },
      },
    },
    include: {
      type: 'object',
      additionalProperties: false,
      properties: {
        comparisons: {
          type: 'object',
          additionalProperties: false,
          required: ['mode'],
          properties: { mode: { type: 'string', enum: [...COMPARISON_MODES] } },
          description: 'Each row also gets the other period’s values, the change (this − other) and its 95% interval.',
        },
        time_labels: { type: 'boolean', description: 'Every bucket of the time dimension in the range is in the answer, empty ones as zeros.' },
      },
    },
  },
} as const;

const interval = { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;
const dimensionValues = { type: 'object', additionalProperties: { type: ['string', 'null'] } } as const;
const metricValues = { type: 'object', additionalProperties: { anyOf: [{ type: 'number' }, { type: 'null' }, interval] } } as const;

export const queryResponseSchema = {
  type: 'object',
  required: ['results', 'meta'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['dimensions', 'metrics'],
        properties: {
          dimensions: dimensionValues,
          metrics: metricValues,
          comparison: {
            type: 'object',
            required: ['dimensions', 'metrics', 'change'],
            description: 'With include.comparisons: the matching group of the other period, and this − other per metric.',
            properties: { dimensions: dimensionValues, metrics: metricValues, change: metricValues },
          },
        },
      },
    },
    meta: {
      type: 'object',
      required: ['source', 'sources', 'tables', 'date_range', 'metrics', 'dimensions', 'rows', 'total_rows', 'truncated'],
      properties: {
        source: { type: 'string', enum: ['rollup', 'raw', 'mixed'], description: 'Where the numbers came from.' },
        sources: { type: 'object', additionalProperties: { type: 'string', enum: ['rollup', 'raw'] }, description: 'Per group of base measures.' },
        tables: { type: 'array', items: { type: 'string' }, description: 'What the answer was read from.' },
        date_range: { type: 'array', items: { type: 'string' } },
        metrics: { type: 'array', items: { type: 'string' } },
        dimensions: { type: 'array', items: { type: 'string' } },
        rows: { type: 'integer' },
        total_rows: { type: 'integer', description: 'Groups before the page was cut.' },
        truncated: { type: 'boolean', description: 'Whether groups follow this page.' },
        pagination: { type: 'object', properties: { limit: { type: 'integer' }, offset: { type: 'integer' } } },
        comparison: {
          type: 'object',
          properties: { mode: { type: 'string', enum: [...COMPARISON_MODES] }, date_range: { type: 'array', items: { type: 'string' } } },
        },
        time_labels: { type: 'array', items: { type: 'string' }, description: 'With include.time_labels: every bucket of the range.' },
        attribution_window_hours: { type: 'integer' },
        confidence: { type: 'number' },
        intervals: { type: 'object', additionalProperties: { type: 'string' } },
        took_ms: { type: 'number' },
      },
    },
  },
} as const;

/** Checks a request that already matches queryRequestSchema against the catalog; throws ApiError. */
export function normalizeQuery(req: QueryRequest, context: NormalizeContext = {}): NormalizedQuery {
  if (needsExtent(req) && context.extent === undefined) throw new Error('normalizeQuery: a relative date_range needs the warehouse extent');
  for (const m of req.metrics) {
    if (!isMetric(m)) throw new ApiError('UNKNOWN_METRIC', `"${clip(m)}" is not one of: ${METRIC_NAMES.join(', ')}.`);
  }
  const dimensions = req.dimensions ?? [];
  for (const d of dimensions) {
    if (!isDimension(d)) throw new ApiError('UNKNOWN_DIMENSION', `"${clip(d)}" is not one of: ${DIMENSION_NAMES.join(', ')}.`);
  }
  if (dimensions.filter((d) => DIMENSIONS[d].kind === 'time').length > 1) {
    throw new ApiError('BAD_REQUEST', 'Use at most one time dimension.');
  }

  if (typeof req.date_range === 'string' && !isRelativeRange(req.date_range)) {
    throw new ApiError('INVALID_DATE_RANGE', `"${clip(req.date_range)}" is not [from, to] nor one of: ${RELATIVE_RANGES.join(', ')}.`);
  }
  const [from, to] = isRelativeRange(req.date_range) ? resolveRelativeRange(req.date_range, context.extent ?? null, context.today) : req.date_range;
  checkDayRange(from, to, QUERY_DAYS);

  const include = req.include ?? {};
  const timeDimension = dimensions.some((d) => DIMENSIONS[d].kind === 'time');
  if (include.time_labels && !timeDimension)
    throw new ApiError('BAD_REQUEST', 'include.time_labels needs a time dimension (time:day, time:week or time:month).');
  let comparison: NormalizedQuery['comparison'] = null;
  if (include.comparisons) {
    const other = comparisonPeriod(include.comparisons.mode, from, to);
    if (other.from < FIRST_DAY) throw new ApiError('INVALID_DATE_RANGE', `The ${include.comparisons.mode} period would start before ${FIRST_DAY}.`);
    comparison = { mode: include.comparisons.mode, from: other.from, to: other.to };
  }
  if (req.limit !== undefined && req.pagination?.limit !== undefined) throw new ApiError('BAD_REQUEST', 'Give limit or pagination.limit, not both.');

  const filters = (req.filters ?? []).map(([op, dimension, values]) => {
    if (!isDimension(dimension)) throw new ApiError('UNKNOWN_DIMENSION', `Filter on "${clip(dimension)}": not one of ${DIMENSION_NAMES.join(', ')}.`);
    if (!DIMENSIONS[dimension].filterable)
      throw new ApiError('BAD_REQUEST', `Filter on "${dimension}": time dimensions are limited by date_range, not filters.`);
    return { op, dimension, values: [...values] };
  });

  const seen = new Set<string>();
  const orderBy = (req.order_by ?? []).map(([key, dir]) => {
    let kind: 'metric' | 'dimension';
    if (req.metrics.includes(key)) kind = 'metric';
    else if (dimensions.includes(key)) kind = 'dimension';
    else throw new ApiError('BAD_REQUEST', `order_by "${clip(key)}" must be one of this query's metrics or dimensions.`);
    if (seen.has(key)) throw new ApiError('BAD_REQUEST', `order_by names "${key}" twice.`);
    seen.add(key);
    return { key, dir, kind };
  });

  return {
    metrics: [...req.metrics],
    dimensions: [...dimensions],
    from,
    to,
    filters,
    orderBy,
    limit: req.pagination?.limit ?? req.limit ?? DEFAULT_LIMIT,
    offset: req.pagination?.offset ?? 0,
    comparison,
    timeLabels: include.time_labels === true,
  };
}

/** User text echoed in an error message, cut short. */
function clip(text: unknown): string {
  const s = String(text);
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
