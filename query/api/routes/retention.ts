// GET /v1/retention: Kaplan–Meier survival from opt-in to the first opt-out or block, in days, with
// Greenwood intervals, per group (frequency by default). Definitions: docs/analyses.md.
import { kaplanMeier, type KmInterval } from '../../analyses/kaplan-meier.js';
import { CENSORING, RETENTION_GROUPS, retentionCounts, type Censoring, type RetentionGroup } from '../../analyses/retention-sql.js';
import { dayRange, isoDay } from '../../sql/days.js';
import { ANALYSIS_DAYS, channelSchema, dateSchema } from '../analysis-schemas.js';
import type { RouteModule } from '../route-module.js';
import { documentedEnum } from '../../documented-enum.js';
import { ApiError } from '../../../common/errors.js';

const INTERVAL: KmInterval = 'log-log';
export const MAX_DAYS = 3660;

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Checked in the handler, which answers UNKNOWN_DIMENSION (docs/api.md).
    by: documentedEnum(Object.keys(RETENTION_GROUPS), {
      type: 'string',
      pattern: '^[a-z_]{1,32}$',
      default: 'frequency',
      description: `One of ${Object.keys(RETENTION_GROUPS).join(', ')}`,
    }),
    channel: channelSchema,
    from: { ...dateSchema, description: 'First opt-in date of the cohort (UTC, inclusive); give with `to`.' },
    to: { ...dateSchema, description: 'Last opt-in date of the cohort (UTC, inclusive); give with `from`.' },
    censor: { type: 'string', enum: [...CENSORING], default: 'end_of_data' },
    max_days: { type: 'integer', minimum: 0, maximum: MAX_DAYS, description: 'Return steps up to this day only (the median still uses the whole curve).' },
  },
} as const;

const interval = { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 } as const;

const stepSchema = {
  type: 'object',
  required: ['day', 'at_risk', 'events', 'censored', 'survival', 'std_err', 'ci95'],
  properties: {
    day: { type: 'integer' },
    at_risk: { type: 'integer' },
    events: { type: 'integer' },
    censored: { type: 'integer' },
    survival: { type: 'number' },
    std_err: { type: 'number' },
    ci95: interval,
  },
} as const;

const response200 = {
  type: 'object',
  required: ['by', 'channel', 'from', 'to', 'censoring', 'end_of_data', 'interval', 'groups'],
  properties: {
    by: { type: 'string' },
    channel: { type: ['string', 'null'] },
    from: { type: ['string', 'null'] },
    to: { type: ['string', 'null'] },
    censoring: { type: 'string' },
    end_of_data: { type: ['string', 'null'] },
    interval: { type: 'string' },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        required: ['group', 'subjects', 'events', 'censored', 'median_days', 'median_ci95', 'steps'],
        properties: {
          group: { type: 'string' },
          subjects: { type: 'integer' },
          events: { type: 'integer' },
          censored: { type: 'integer' },
          median_days: { type: ['integer', 'null'] },
          median_ci95: { type: 'array', items: { type: ['integer', 'null'] }, minItems: 2, maxItems: 2 },
          steps: { type: 'array', items: stepSchema },
        },
      },
    },
  },
} as const;

interface Query {
  by: string;
  channel?: string;
  from?: string;
  to?: string;
  censor: Censoring;
  max_days?: number;
}

export const routes: RouteModule = (app, { wh, config, answers }) => {
  app.get<{ Querystring: Query }>(
    '/v1/retention',
    {
      config: { permission: 'query' },
      schema: {
        tags: ['analyses'],
        summary: 'Kaplan–Meier survival from opt-in to the first opt-out or block',
        description:
          'Steps (day, at_risk, events, censored, survival, Greenwood 95% interval) per group, and the median survival when reached. See docs/analyses.md.',
        querystring,
        response: { 200: response200 },
      },
    },
    async (req, reply) =>
      // The query string as checked, defaults filled in; answers also depend on the configured attribution window.
      answers.reply(reply, { ...req.query, attribution_window_hours: config.attributionWindowHours }, async () => {
        const { by, channel, from, to, censor, max_days: maxDays } = req.query;
        if (!Object.hasOwn(RETENTION_GROUPS, by)) throw new ApiError('UNKNOWN_DIMENSION', `by must be one of ${Object.keys(RETENTION_GROUPS).join(', ')}.`);
        if ((from === undefined) !== (to === undefined)) throw new ApiError('INVALID_DATE_RANGE', 'Give both from and to, or neither.');
        const range = from !== undefined && to !== undefined ? dayRange(from, to, ANALYSIS_DAYS) : null;
        const { counts, endOfData } = await retentionCounts(wh, {
          group: by as RetentionGroup,
          censoring: censor,
          channel: channel ?? null,
          fromMs: range?.fromMs ?? 0,
          endMs: range?.endMs ?? Date.UTC(2200, 0, 1),
          attributionWindowHours: config.attributionWindowHours,
        });
        const names = [...new Set(counts.map((c) => c.group))].sort();
        const groups = names.map((group) => {
          const km = kaplanMeier(
            counts.filter((c) => c.group === group).map((c) => ({ time: c.day, events: c.events, censored: c.censored })),
            { interval: INTERVAL },
          );
          return {
            group,
            subjects: km.subjects,
            events: km.events,
            censored: km.censored,
            median_days: km.median,
            median_ci95: km.median_ci95,
            steps: km.steps
              .filter((s) => maxDays === undefined || s.time <= maxDays)
              .map((s) => ({
                day: s.time,
                at_risk: s.at_risk,
                events: s.events,
                censored: s.censored,
                survival: s.survival,
                std_err: s.std_err,
                ci95: s.ci95,
              })),
          };
        });
        return {
          by,
          channel: channel ?? null,
          from: range ? isoDay(range.fromMs) : null,
          to: to ?? null,
          censoring: censor,
          end_of_data: endOfData,
          interval: INTERVAL,
          groups,
        };
      }),
  );
};
