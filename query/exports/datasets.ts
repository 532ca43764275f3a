// The exportable datasets: their fields (name, type, description, constraints) and the SQL that produces them.
// Every piece of SQL text here is written in this repository; values from users (dates, the secret, the
// cell threshold) travel only as typed query parameters.
import { CHANNELS, ENGAGEMENT_TYPES, FREQUENCIES, SEND_CATEGORIES, SUBSCRIPTION_TYPES } from '../../events/types.js';
import { ApiError } from '../api/errors.js';
import { calendarDayMs, chTime, DAY_MS } from '../sql/days.js';
import { PSEUDONYM_PATTERN, readExportSecret, SQL_KEY_PADS, sqlPseudonym, type PseudonymDomain } from './pseudonym.js';

export const DATASETS = ['sends', 'engagements', 'subscriptions', 'daily_metrics'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const isDataset = (name: string): name is DatasetName => (DATASETS as readonly string[]).includes(name);

export const FORMATS = ['parquet', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof FORMATS)[number];
export const isFormat = (name: string): name is ExportFormat => (FORMATS as readonly string[]).includes(name);

export const MIN_CELL_ENV = 'POLICYLENS_EXPORT_MIN_CELL';
export const DEFAULT_MIN_CELL = 10;

/** The small-cell threshold: daily_metrics cells built from fewer sends than this are suppressed. */
export function minCellFrom(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[MIN_CELL_ENV];
  if (raw === undefined || raw === '') return DEFAULT_MIN_CELL;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw new Error(`${MIN_CELL_ENV} must be a whole number from 1 to 1000000, got ${JSON.stringify(raw)}`);
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// The query window: inclusive UTC dates.

export interface ExportWindow {
  /** Inclusive first UTC day, YYYY-MM-DD, or null for no lower bound. */
  from: string | null;
  /** Inclusive last UTC day, YYYY-MM-DD, or null for no upper bound. */
  to: string | null;
}

// DateTime64(3) covers 1900-01-01 to 2299-12-31; events are accepted from 2010 on.
const MIN_DAY = Date.UTC(1970, 0, 1);
const MAX_DAY = Date.UTC(2299, 11, 30);

function dayMs(value: string, name: string): number {
  const ms = calendarDayMs(value);
  if (ms === null) throw new ApiError('INVALID_DATE_RANGE', `${name} is not a calendar date YYYY-MM-DD.`);
  if (ms < MIN_DAY || ms > MAX_DAY) throw new ApiError('INVALID_DATE_RANGE', `${name} must be between 1970-01-01 and 2299-12-30.`);
  return ms;
}

/** Checks from/to (both optional); throws INVALID_DATE_RANGE. */
export function parseWindow(from: string | undefined, to: string | undefined): ExportWindow {
  const f = from === undefined ? null : dayMs(from, 'from');
  const t = to === undefined ? null : dayMs(to, 'to');
  if (f !== null && t !== null && f > t) throw new ApiError('INVALID_DATE_RANGE', 'from is after to.');
  return { from: from ?? null, to: to ?? null };
}


/** Query parameters of a window: pl_from (inclusive) and pl_until (exclusive), as DateTime64(3, 'UTC') text. */
export function windowParams(w: ExportWindow): Record<string, string> {
  const p: Record<string, string> = {};
  if (w.from !== null) p.pl_from = chTime(Date.parse(`${w.from}T00:00:00Z`));
  if (w.to !== null) p.pl_until = chTime(Date.parse(`${w.to}T00:00:00Z`) + DAY_MS);
  return p;
}

/** `column` within the window, widened by `slack` (SQL, e.g. an interval) after the end when given. */
function windowSql(w: ExportWindow, column = 'occurred_at', slackAfter = ''): string {
  const parts: string[] = [];
  if (w.from !== null) parts.push(`${column} >= {pl_from:DateTime64(3, 'UTC')}`);
  if (w.to !== null) parts.push(`${column} < {pl_until:DateTime64(3, 'UTC')}${slackAfter ? ` + ${slackAfter}` : ''}`);
  return parts.length ? parts.join(' AND ') : '1';
}

// ---------------------------------------------------------------------------------------------------------
// Fields: Table Schema (Frictionless v2) descriptors plus the SQL for each column.

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime';

export interface FieldConstraints {
  required?: boolean;
  unique?: boolean;
  enum?: readonly string[];
  pattern?: string;
  minimum?: number;
  maxLength?: number;
}

export interface ExportField {
  name: string;
  type: FieldType;
  title?: string;
  description: string;
  constraints?: FieldConstraints;
  /** Set when the column is a pseudonym. */
  pseudonym?: PseudonymDomain;
  /** The column's SQL expression; defaults to the column of the same name. */
  sql?: string;
}

export interface DatasetSpec {
  name: DatasetName;
  title: string;
  description: string;
  /** True when rows carry pseudonymised identifiers, so an export needs the secret. */
  identifiers: boolean;
  /** Raw table (or the sends table for daily_metrics) the rows come from. */
  table: string;
  fields: ExportField[];
  primaryKey?: string[];
  /** The SELECT (without SETTINGS or FORMAT) and which parameters it uses besides the window's. */
  select(ctx: SelectContext): string;
  /** Engine settings the query needs besides the format's. */
  settings?: Record<string, string | number>;
}

export interface SelectContext {
  window: ExportWindow;
}

const pseudonymField = (name: string, domain: PseudonymDomain, description: string, required = true, unique = false): ExportField => ({
  name,
  type: 'string',
  description,
  pseudonym: domain,
  constraints: { ...(required ? { required: true } : {}), ...(unique ? { unique: true } : {}), pattern: PSEUDONYM_PATTERN },
});

const PSEUDONYM_NOTE = 'Lower-case hex HMAC-SHA256 under the export key (docs/exports.md, Pseudonymisation): stable for one secret, unrelated under another.';

const common = {
  eventId: (what: string) => pseudonymField('event_id', 'event', `Pseudonym of the ${what}'s event_id. ${PSEUDONYM_NOTE} Unique per row.`, true, true),
  occurredAt: (what: string): ExportField => ({
    name: 'occurred_at',
    type: 'datetime',
    description: `When the ${what} happened, UTC, millisecond precision (ISO 8601 with Z in CSV and JSONL; a UTC timestamp in milliseconds in Parquet).`,
    constraints: { required: true },
  }),
  businessId: pseudonymField('business_id', 'business', `Pseudonym of the business (business_id). ${PSEUDONYM_NOTE} The same business has the same pseudonym in every dataset of one secret.`),
  userId: pseudonymField('user_id', 'user', `Pseudonym of the person (user_id). ${PSEUDONYM_NOTE} The same person has the same pseudonym in every dataset of one secret.`),
  channel: { name: 'channel', type: 'string', description: 'Messaging channel.', constraints: { required: true, enum: CHANNELS } } as ExportField,
  regime: (when: string): ExportField => ({
    name: 'regime',
    type: 'string',
    description: `Policy regime in force for the channel when the ${when} happened, as stored with the event: derived from the regime table (resource "regimes") at ingest time, or named by the producer; "unknown" outside every range.`,
    constraints: { required: true, maxLength: 64 },
  }),
};

const SENDS: DatasetSpec = {
  name: 'sends',
  title: 'Sends',
  description: 'One row per message a business sent to a person (event family "send").',
  identifiers: true,
  table: 'sends',
  primaryKey: ['event_id'],
  fields: [
    common.eventId('send'),
    common.occurredAt('send'),
    common.businessId,
    common.userId,
    common.channel,
    { name: 'category', type: 'string', description: 'Kind of message under the channel\'s rules (message tag, recurring notification, template category, ...).', constraints: { required: true, enum: SEND_CATEGORIES } },
    { name: 'frequency', type: 'string', sql: "nullIf(frequency, '')", description: 'Opted-in frequency of a recurring notification; null for every other category.', constraints: { enum: FREQUENCIES } },
    { name: 'topic', type: 'string', sql: "nullIf(topic, '')", description: 'Topic label the business gave the message (free text up to 128 characters, not pseudonymised); null when absent or empty.', constraints: { maxLength: 128 } },
    pseudonymField('campaign_id', 'campaign', `Pseudonym of the campaign the send belongs to (campaign names often name the business). ${PSEUDONYM_NOTE} Null when the send has no campaign.`, false),
    { name: 'cost_usd', type: 'number', description: 'What the business paid for the send, USD, exact to 6 decimal places (0 when free).', constraints: { required: true, minimum: 0 } },
    common.regime('send'),
  ],
  select: ({ window }) => rowSelect(SENDS, window),
};

const ENGAGEMENTS: DatasetSpec = {
  name: 'engagements',
  title: 'Engagements',
  description: 'One row per engagement with a send: delivered, read, clicked, replied or converted (event family "engagement").',
  identifiers: true,
  table: 'engagements',
  primaryKey: ['event_id'],
  fields: [
    common.eventId('engagement'),
    common.occurredAt('engagement'),
    common.businessId,
    common.userId,
    common.channel,
    { name: 'type', type: 'string', description: 'What happened to the send.', constraints: { required: true, enum: ENGAGEMENT_TYPES } },
    pseudonymField('send_id', 'event', `Pseudonym of the send this engagement belongs to: equal to event_id of that send in the sends export of the same secret, so the two join. ${PSEUDONYM_NOTE}`),
    { name: 'revenue_usd', type: 'number', description: 'Revenue the business attributes to a conversion, USD, exact to 6 decimal places; 0 on every type but converted.', constraints: { required: true, minimum: 0 } },
    common.regime('engagement'),
  ],
  select: ({ window }) => rowSelect(ENGAGEMENTS, window),
};

const SUBSCRIPTIONS: DatasetSpec = {
  name: 'subscriptions',
  title: 'Subscription events',
  description:
    'One row per opt-in, opt-out, block or spam report (event family "subscription"). The free-text reason a person may give is not exported: it can hold anything, including personal data, and cannot be pseudonymised.',
  identifiers: true,
  table: 'subscriptions',
  primaryKey: ['event_id'],
  fields: [
    common.eventId('subscription event'),
    common.occurredAt('subscription event'),
    common.businessId,
    common.userId,
    common.channel,
    { name: 'type', type: 'string', description: 'opt_in, opt_out, block or spam_report.', constraints: { required: true, enum: SUBSCRIPTION_TYPES } },
    { name: 'topic', type: 'string', sql: "nullIf(topic, '')", description: 'Topic label of the subscription (free text up to 128 characters, not pseudonymised); null when absent or empty.', constraints: { maxLength: 128 } },
    { name: 'frequency', type: 'string', sql: "nullIf(frequency, '')", description: 'Frequency the person opted in to; set on opt_in only, null otherwise.', constraints: { enum: FREQUENCIES } },
    common.regime('event'),
  ],
  select: ({ window }) => rowSelect(SUBSCRIPTIONS, window),
};

function rowSelect(spec: DatasetSpec, window: ExportWindow): string {
  const columns = spec.fields.map((f) => {
    const base = f.pseudonym ? sqlPseudonym(f.name, f.pseudonym) : (f.sql ?? f.name);
    return `${base} AS ${f.name}`;
  });
  return `${SQL_KEY_PADS}\nSELECT ${columns.join(',\n       ')}\nFROM ${spec.table}\nWHERE ${windowSql(window)}`;
}

// ---------------------------------------------------------------------------------------------------------
// daily_metrics: one row per cell (day, channel, regime, category, frequency) of sends, with small cells suppressed.

/** A measure of daily_metrics: its definition is also the package's metric definition. */
interface MetricField extends ExportField {
  unit: string;
}

const count = (name: string, title: string, description: string): MetricField => ({ name, title, type: 'integer', unit: 'count', description, constraints: { minimum: 0 } });
const SUPPRESSED_NOTE = 'Null when the cell is suppressed.';

export const DAILY_METRICS: MetricField[] = [
  count('sends', 'Sends', `Sends in the cell. ${SUPPRESSED_NOTE}`),
  { name: 'cost_usd', title: 'Cost', type: 'number', unit: 'USD', description: `Sum of cost_usd of the cell's sends, USD. ${SUPPRESSED_NOTE}`, constraints: { minimum: 0 } },
  ...(['delivered', 'read', 'clicked', 'replied', 'converted'] as const).map((t) =>
    count(
      t,
      t[0].toUpperCase() + t.slice(1),
      `Sends of the cell with at least one "${t}" engagement (joined by send_id, however late; with a from date, not earlier than a day before it); a send counts once however many it has. ${SUPPRESSED_NOTE}`,
    ),
  ),
  { name: 'revenue_usd', title: 'Revenue', type: 'number', unit: 'USD', description: `Sum of revenue_usd of the converted engagements of the cell's sends, USD. ${SUPPRESSED_NOTE}`, constraints: { minimum: 0 } },
  ...(
    [
      ['opt_outs', 'Opt-outs', 'opt_out'],
      ['blocks', 'Blocks', 'block'],
      ['spam_reports', 'Spam reports', 'spam_report'],
    ] as const
  ).map(([name, title, type]) =>
    count(
      name,
      title,
      `${type} events attributed to the cell's sends: each counts against the latest send from the same business to the same person on the same channel at or before it, if that send is at most the attribution window (package property policylens.attribution_window_hours) earlier; of sends in the same millisecond, the one with the larger event_id. Events with no such send are not in any cell (the subscriptions export has them all). ${SUPPRESSED_NOTE}`,
    ),
  ),
];

const DIMENSIONS: ExportField[] = [
  { name: 'day', type: 'date', description: 'UTC day of the sends.', constraints: { required: true } },
  common.channel,
  { name: 'regime', type: 'string', description: 'Policy regime stored with the sends (see the sends dataset).', constraints: { required: true, maxLength: 64 } },
  { name: 'category', type: 'string', description: 'Send category.', constraints: { required: true, enum: SEND_CATEGORIES } },
  { name: 'frequency', type: 'string', description: 'Frequency of recurring notifications; null for every other category.', constraints: { enum: FREQUENCIES } },
  {
    name: 'suppressed',
    type: 'boolean',
    description: 'True when the cell has fewer sends than the small-cell threshold (package property policylens.min_cell): every measure of the row is then null. The row itself is kept so that the cell is known to exist.',
    constraints: { required: true },
  },
];

const DAILY: DatasetSpec = {
  name: 'daily_metrics',
  title: 'Daily metrics',
  description:
    'Sends, cost, engagement, revenue and spam-risk events per UTC day, channel, regime, category and frequency of the sends, with small cells suppressed. Engagements and spam-risk events are counted on the day and in the cell of the send they belong to. No identifiers.',
  identifiers: false,
  table: 'sends',
  fields: [...DIMENSIONS, ...DAILY_METRICS],
  select: (ctx) => dailyMetricsSelect(ctx),
  // The engagements of every send are aggregated and joined: spill to disk past 64 MiB instead of growing with
  // the table (measured on 2M sends and 3M engagements: RSS growth +560 MB without, about +210 MB with).
  settings: {
    max_bytes_before_external_group_by: 64 * 1024 * 1024,
    join_algorithm: 'grace_hash',
    grace_hash_join_initial_buckets: 16,
    max_bytes_in_join: 64 * 1024 * 1024,
  },
};

function dailyMetricsSelect({ window }: SelectContext): string {
  const inWindow = windowSql(window);
  const risk = `type IN ('opt_out', 'block', 'spam_report')`;
  const riskWindow = windowSql(window, 'occurred_at', 'toIntervalHour({pl_attr_hours:UInt32})');
  // Engagements cannot precede their send (a day of clock skew is allowed, as in docs/analyses.md); the join
  // does the rest. (An IN-set of the window's send ids would be exact but would hold them all in memory.)
  const engagementFilter = window.from === null ? '1' : `occurred_at >= {pl_from:DateTime64(3, 'UTC')} - INTERVAL 1 DAY`;
  const measures = DAILY_METRICS.map((m) => `if(suppressed, NULL, ${m.name === 'cost_usd' || m.name === 'revenue_usd' ? `n_${m.name}` : `toUInt64(n_${m.name})`}) AS ${m.name}`);
  return `SELECT day, channel, regime, category, nullIf(frequency, '') AS frequency,
       CAST(n_sends < {pl_min_cell:UInt64}, 'Bool') AS suppressed,
       ${measures.join(',\n       ')}
FROM
(
    SELECT toDate(s.occurred_at) AS day, s.channel AS channel, s.regime AS regime, s.category AS category, s.frequency AS frequency,
           count() AS n_sends, sum(s.cost_usd) AS n_cost_usd,
           countIf(e.delivered) AS n_delivered, countIf(e.read) AS n_read, countIf(e.clicked) AS n_clicked,
           countIf(e.replied) AS n_replied, countIf(e.converted) AS n_converted,
           toDecimal128(sum(e.revenue), 6) AS n_revenue_usd
    FROM (SELECT event_id, occurred_at, channel, regime, category, frequency, cost_usd FROM sends WHERE ${inWindow}) AS s
    LEFT JOIN
    (
        SELECT send_id, max(type = 'delivered') AS delivered, max(type = 'read') AS read, max(type = 'clicked') AS clicked,
               max(type = 'replied') AS replied, max(type = 'converted') AS converted,
               sumIf(revenue_usd, type = 'converted') AS revenue
        FROM engagements
        WHERE ${engagementFilter}
        GROUP BY send_id
    ) AS e ON e.send_id = s.event_id
    GROUP BY day, channel, regime, category, frequency
) AS c
LEFT JOIN
(
    -- Each spam-risk event goes to the latest send of its business, person and channel at or before it, at most
    -- the attribution window earlier (ties: the larger event_id), as in /v1/query and docs/analyses.md.
    SELECT toDate(a.best.1) AS day, a.best.2 AS channel, a.best.3 AS regime, a.best.4 AS category, a.best.5 AS frequency,
           countIf(a.type = 'opt_out') AS n_opt_outs, countIf(a.type = 'block') AS n_blocks, countIf(a.type = 'spam_report') AS n_spam_reports
    FROM
    (
        SELECT o.event_id AS event_id, any(o.type) AS type,
               argMax(tuple(s.occurred_at, s.channel, s.regime, s.category, s.frequency), tuple(s.occurred_at, s.event_id)) AS best
        FROM (SELECT event_id, type, occurred_at, channel, business_id, user_id FROM subscriptions WHERE ${risk} AND ${riskWindow}) AS o
        INNER JOIN
        (
            SELECT event_id, occurred_at, channel, business_id, user_id, regime, category, frequency
            FROM sends
            WHERE ${riskWindow}
              AND (business_id, user_id, channel) IN (SELECT business_id, user_id, channel FROM subscriptions WHERE ${risk} AND ${riskWindow})
        ) AS s ON s.business_id = o.business_id AND s.user_id = o.user_id AND s.channel = o.channel
        WHERE s.occurred_at <= o.occurred_at AND s.occurred_at >= o.occurred_at - toIntervalHour({pl_attr_hours:UInt32})
        GROUP BY o.event_id
    ) AS a
    WHERE ${windowSql(window, 'a.best.1')}
    GROUP BY day, channel, regime, category, frequency
) AS r USING (day, channel, regime, category, frequency)
ORDER BY day, channel, regime, category, frequency`;
}

export const DATASET_SPECS: Record<DatasetName, DatasetSpec> = {
  sends: SENDS,
  engagements: ENGAGEMENTS,
  subscriptions: SUBSCRIPTIONS,
  daily_metrics: DAILY,
};

export interface ExportRequest {
  dataset: DatasetName;
  format: ExportFormat;
  window: ExportWindow;
  /** Required when the dataset has identifiers. */
  secret: string | null;
  minCell: number;
  attributionWindowHours: number;
}

/** The SELECT of an export and every typed parameter it needs. */
export interface ExportQuery {
  sql: string;
  params: Record<string, unknown>;
  settings?: Record<string, string | number>;
}

export function exportQuery(req: ExportRequest): ExportQuery {
  const spec = DATASET_SPECS[req.dataset];
  const params: Record<string, unknown> = { ...windowParams(req.window) };
  if (spec.identifiers) {
    if (!req.secret) throw new ApiError('EXPORT_SECRET_MISSING');
    params.pl_secret = req.secret;
  }
  if (spec.name === 'daily_metrics') {
    params.pl_min_cell = req.minCell;
    params.pl_attr_hours = req.attributionWindowHours;
  }
  return { sql: spec.select({ window: req.window }), params, settings: spec.settings };
}

/** A count of the rows an export of a row dataset will hold (cheap: no pseudonyms, no formatting). */
export function countQuery(dataset: DatasetName, window: ExportWindow): { sql: string; params: Record<string, unknown> } | null {
  if (dataset === 'daily_metrics') return null;
  return { sql: `SELECT count() AS n FROM ${DATASET_SPECS[dataset].table} WHERE ${windowSql(window)}`, params: windowParams(window) };
}

export interface ResolvedExport {
  dataset: DatasetName;
  format: ExportFormat;
  window: ExportWindow;
  secret: string | null;
}

/** Checks everything a request names before any work: dataset, dates, and the secret when identifiers are in it. */
export function resolveExport(dataset: string, format: ExportFormat, from: string | undefined, to: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedExport {
  if (!isDataset(dataset)) throw new ApiError('NOT_FOUND', `No dataset ${JSON.stringify(dataset.slice(0, 64))}; datasets: ${DATASETS.join(', ')}.`);
  const window = parseWindow(from, to);
  let secret: string | null = null;
  if (DATASET_SPECS[dataset].identifiers) {
    const s = readExportSecret(env);
    if (!s.ok) throw new ApiError('EXPORT_SECRET_MISSING', s.reason);
    secret = s.secret;
  }
  return { dataset, format, window, secret };
}
