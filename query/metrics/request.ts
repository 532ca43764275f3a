// The /v1/query request: its JSON Schema (shape only) and the checks that need the catalog (names, dates, order).
// What comes out is a NormalizedQuery whose names are all catalog entries; values stay values (never SQL).
import { documentedEnum } from '../documented-enum.js';
import { ApiError } from '../../common/errors.js';
import { checkDayRange, MAX_RANGE_DAYS, type DayLimits } from '../sql/days.js';
import { DIMENSIONS, DIMENSION_NAMES, METRIC_NAMES, isDimension, isMetric } from './catalog.js';

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 1_000;
export const MAX_FILTERS = 20;
export const MAX_FILTER_VALUES = 1_000;
export const MAX_DIMENSIONS = 6;
/** Dates the warehouse's Date type can hold, and at most ten years. */
export const QUERY_DAYS: DayLimits = { min: '1970-01-01', max: '2149-06-05', maxDays: MAX_RANGE_DAYS };

export type FilterOp = 'is' | 'is_not';
export type Filter = [FilterOp, string, (string | null)[]];
export type OrderBy = [string, 'asc' | 'desc'];

export interface QueryRequest {
  metrics: string[];
  dimensions?: string[];
  date_range: [string, string];
  filters?: Filter[];
  order_by?: OrderBy[];
  limit?: number;
}

export interface NormalizedQuery {
  metrics: string[];
  dimensions: string[];
  from: string;
  to: string;
  filters: { op: FilterOp; dimension: string; values: (string | null)[] }[];
  orderBy: { key: string; dir: 'asc' | 'desc'; kind: 'metric' | 'dimension' }[];
  limit: number;
}

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
      type: 'array',
      minItems: 2,
      maxItems: 2,
      items: { type: 'string', maxLength: 32 },
      description: `[from, to], both YYYY-MM-DD, inclusive, UTC, by the day of the send; at most ${MAX_RANGE_DAYS} days.`,
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
    limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `At most ${MAX_LIMIT} rows.` },
  },
} as const;

const interval = { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;

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
          dimensions: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
          metrics: { type: 'object', additionalProperties: { anyOf: [{ type: 'number' }, { type: 'null' }, interval] } },
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
        total_rows: { type: 'integer', description: 'Groups before the limit.' },
        truncated: { type: 'boolean' },
        attribution_window_hours: { type: 'integer' },
        confidence: { type: 'number' },
        intervals: { type: 'object', additionalProperties: { type: 'string' } },
        took_ms: { type: 'number' },
      },
    },
  },
} as const;

/** Checks a request that already matches queryRequestSchema against the catalog; throws ApiError. */
export function normalizeQuery(req: QueryRequest): NormalizedQuery {
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

  const [from, to] = req.date_range;
  checkDayRange(from, to, QUERY_DAYS);

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

  return { metrics: [...req.metrics], dimensions: [...dimensions], from, to, filters, orderBy, limit: req.limit ?? DEFAULT_LIMIT };
}

/** User text echoed in an error message, cut short. */
function clip(text: unknown): string {
  const s = String(text);
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
