// Request and response schemas of GET /v1/policy-impact (docs/api.md, docs/analyses.md).
import { CHANNELS } from '../../events/types.js';
import { IMPACT_METHODS } from '../analyses/impact-design.js';
import { IMPACT_METRICS } from '../analyses/policy-impact-sql.js';
import { documentedEnum } from '../documented-enum.js';
import { channelSchema } from './analysis-schemas.js';

export const MAX_WINDOW_DAYS = 365;
export const MIN_WINDOW_DAYS = 7;
export const DEFAULT_PLACEBOS = 19;
export const MAX_PLACEBOS = 52;
/** Changes a staggered request may list. */
export const MAX_CHANGES = CHANNELS.length + 1;

const change = '([0-9]{4}-[0-9]{2}-[0-9]{2}|[a-z0-9_]{1,64})';

export const querystring = {
  type: 'object',
  required: ['metric', 'change'],
  additionalProperties: false,
  properties: {
    // Checked in the handler, which answers UNKNOWN_METRIC (docs/api.md).
    metric: documentedEnum(Object.keys(IMPACT_METRICS), {
      type: 'string',
      pattern: '^[a-z0-9_]{1,64}$',
      description: `One of ${Object.keys(IMPACT_METRICS).join(', ')}`,
    }),
    method: {
      type: 'string',
      enum: [...IMPACT_METHODS],
      description:
        'did (difference in differences), event_study (weekly effects around the change), its (interrupted time series, no control), staggered (Callaway–Sant’Anna over several changes). Default: did when a channel stays unchanged in the window, else its.',
    },
    treated: { ...channelSchema, description: 'The treated channel; default: every channel entering a regime on the change date.' },
    control: { ...channelSchema, description: 'The control channel; default: every other channel with no regime boundary inside the window.' },
    change: {
      type: 'string',
      pattern: `^${change}(,${change}){0,${MAX_CHANGES - 1}}$`,
      description:
        'A date YYYY-MM-DD, or a regime name: that regime’s start on the treated channel (on any channel when treated is not given). method=staggered takes a comma-separated list.',
    },
    window_days: { type: 'integer', minimum: MIN_WINDOW_DAYS, maximum: MAX_WINDOW_DAYS, default: 90 },
    placebos: {
      type: 'integer',
      minimum: 0,
      maximum: MAX_PLACEBOS,
      default: DEFAULT_PLACEBOS,
      description: 'Placebo boundaries before the change, one week apart (0: none). Not used by method=staggered.',
    },
    control_group: {
      type: 'string',
      enum: ['not_yet_treated', 'never_treated'],
      default: 'not_yet_treated',
      description: 'method=staggered: the channels compared with each group.',
    },
  },
} as const;

const interval = { type: ['array', 'null'], items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const cellSchema = {
  type: 'object',
  required: ['channel', 'value', 'numerator', 'denominator', 'businesses'],
  properties: {
    channel: { type: 'string' },
    value: { type: 'number' },
    numerator: { type: 'number' },
    denominator: { type: 'number' },
    businesses: { type: 'integer' },
  },
} as const;
const dates = { type: 'object', required: ['from', 'to'], properties: { from: { type: 'string' }, to: { type: 'string' } } } as const;
const weekEffect = {
  type: 'object',
  required: ['relative_week', 'estimate', 'ci95'],
  properties: {
    relative_week: { type: 'integer' },
    from: { type: 'string', description: 'First day of the week (not for staggered, where weeks are relative to each group’s boundary).' },
    estimate: nullableNumber,
    ci95: interval,
  },
} as const;
const estimate = { type: 'object', required: ['estimate', 'ci95'], properties: { estimate: { type: 'number' }, ci95: interval } } as const;

export const response200 = {
  type: 'object',
  required: ['metric', 'metric_description', 'treated', 'control', 'change', 'window_days', 'windows', 'estimate', 'ci95', 'method', 'placebo', 'warnings'],
  properties: {
    metric: { type: 'string' },
    metric_description: { type: 'string' },
    treated: { type: 'string', description: 'The treated channels, comma-separated.' },
    control: { type: ['string', 'null'], description: 'The control channels, comma-separated; null without a control group.' },
    change: {
      type: 'object',
      required: ['input', 'date', 'regime'],
      properties: { input: { type: 'string' }, date: { type: 'string' }, regime: { type: ['string', 'null'] } },
    },
    window_days: { type: 'integer' },
    windows: { type: 'object', required: ['before', 'after'], properties: { before: dates, after: dates } },
    cells: {
      type: 'object',
      required: ['treated_before', 'treated_after', 'control_before', 'control_after'],
      properties: { treated_before: cellSchema, treated_after: cellSchema, control_before: cellSchema, control_after: cellSchema },
    },
    estimate: { type: 'number' },
    ci95: interval,
    pre_trend: {
      type: 'object',
      required: ['weeks', 'slope_per_week', 'ci95', 'parallel_trends_plausible'],
      properties: {
        weeks: { type: 'integer' },
        slope_per_week: nullableNumber,
        ci95: interval,
        parallel_trends_plausible: { type: 'boolean' },
        leads_outside: { type: 'array', items: { type: 'integer' } },
      },
    },
    event_study: {
      type: 'object',
      required: ['reference_week', 'weeks'],
      properties: { reference_week: { type: 'integer' }, weeks: { type: 'array', items: weekEffect } },
    },
    its: {
      type: 'object',
      required: ['level_change', 'slope_change', 'pre_slope_per_week', 'newey_west_lags', 'weeks'],
      properties: {
        level_change: estimate,
        slope_change: estimate,
        pre_slope_per_week: { type: 'number' },
        newey_west_lags: { type: 'integer' },
        weeks: {
          type: 'array',
          items: {
            type: 'object',
            required: ['relative_week', 'from', 'observed', 'fitted', 'counterfactual'],
            properties: {
              relative_week: { type: 'integer' },
              from: { type: 'string' },
              observed: nullableNumber,
              fitted: { type: 'number' },
              counterfactual: { type: 'number' },
            },
          },
        },
      },
    },
    staggered: {
      type: 'object',
      required: ['control_group', 'cohorts', 'group_time', 'twfe_estimate'],
      properties: {
        control_group: { type: 'string' },
        cohorts: {
          type: 'array',
          items: {
            type: 'object',
            required: ['date', 'week_from', 'channels'],
            properties: { date: { type: 'string' }, week_from: { type: 'string' }, channels: { type: 'array', items: { type: 'string' } } },
          },
        },
        group_time: {
          type: 'array',
          items: {
            type: 'object',
            required: ['cohort', 'week_from', 'relative_week', 'att'],
            properties: { cohort: { type: 'string' }, week_from: { type: 'string' }, relative_week: { type: 'integer' }, att: { type: 'number' } },
          },
        },
        twfe_estimate: nullableNumber,
      },
    },
    method: {
      type: 'object',
      required: ['name', 'chosen', 'reason', 'interval'],
      properties: {
        name: { type: 'string', enum: [...IMPACT_METHODS] },
        chosen: { type: 'string', enum: ['request', 'default'] },
        reason: { type: 'string' },
        interval: { type: 'string' },
        clusters: { type: 'integer' },
        replicates: { type: 'integer' },
        replicates_used: { type: 'integer' },
        seed: { type: 'integer' },
      },
    },
    placebo: {
      type: ['object', 'null'],
      required: ['boundaries', 'randomisation_p'],
      properties: {
        boundaries: {
          type: 'array',
          items: { type: 'object', required: ['date', 'estimate'], properties: { date: { type: 'string' }, estimate: nullableNumber } },
        },
        randomisation_p: nullableNumber,
      },
    },
    warnings: { type: 'array', items: { type: 'string' } },
  },
} as const;
