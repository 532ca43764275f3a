// The exportable datasets: the three event-level ones (rows pseudonymised) here, daily_metrics in
// daily-metrics.ts, analysis_panel in analysis-panel.ts. Every piece of SQL text is written in this repository; values from users (dates, the
// secret) travel only as typed query parameters.
import { ENGAGEMENT_TYPES, FREQUENCIES, SEND_CATEGORIES, SUBSCRIPTION_TYPES } from '../../events/types.js';
import { ANALYSIS_PANEL } from './analysis-panel.js';
import { DAILY } from './daily-metrics.js';
import { SQL_KEY_PADS, sqlPseudonym } from './pseudonym.js';
import { commonFields, pseudonymField, PSEUDONYM_NOTE, type DatasetName, type DatasetSpec } from './spec.js';
import { windowSql, type ExportWindow } from './window.js';

const SENDS: DatasetSpec = {
  name: 'sends',
  title: 'Sends',
  description: 'One row per message a business sent to a person (event family "send").',
  identifiers: true,
  table: 'sends',
  primaryKey: ['event_id'],
  fields: [
    commonFields.eventId('send'),
    commonFields.occurredAt('send'),
    commonFields.businessId,
    commonFields.userId,
    commonFields.channel,
    {
      name: 'category',
      type: 'string',
      description: "Kind of message under the channel's rules (message tag, recurring notification, template category, ...).",
      constraints: { required: true, enum: SEND_CATEGORIES },
    },
    {
      name: 'frequency',
      type: 'string',
      sql: "nullIf(frequency, '')",
      description: 'Opted-in frequency of a recurring notification; null for every other category, and where the frequency is not known.',
      constraints: { enum: FREQUENCIES },
    },
    {
      name: 'topic',
      type: 'string',
      sql: "nullIf(topic, '')",
      description: 'Topic label the business gave the message (free text up to 128 characters, not pseudonymised); null when absent or empty.',
      constraints: { maxLength: 128 },
    },
    pseudonymField(
      'campaign_id',
      'campaign',
      `Pseudonym of the campaign the send belongs to (campaign names often name the business). ${PSEUDONYM_NOTE} Null when the send has no campaign.`,
      false,
    ),
    {
      name: 'cost_usd',
      type: 'number',
      description: 'What the business paid for the send, USD, exact to 6 decimal places (0 when free).',
      constraints: { required: true, minimum: 0 },
    },
    commonFields.regime('send'),
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
    commonFields.eventId('engagement'),
    commonFields.occurredAt('engagement'),
    commonFields.businessId,
    commonFields.userId,
    commonFields.channel,
    { name: 'type', type: 'string', description: 'What happened to the send.', constraints: { required: true, enum: ENGAGEMENT_TYPES } },
    pseudonymField(
      'send_id',
      'event',
      `Pseudonym of the send this engagement belongs to: equal to event_id of that send in the sends export of the same secret, so the two join. ${PSEUDONYM_NOTE}`,
    ),
    {
      name: 'revenue_usd',
      type: 'number',
      description: 'Revenue the business attributes to a conversion, USD, exact to 6 decimal places; 0 on every type but converted.',
      constraints: { required: true, minimum: 0 },
    },
    commonFields.regime('engagement'),
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
    commonFields.eventId('subscription event'),
    commonFields.occurredAt('subscription event'),
    commonFields.businessId,
    commonFields.userId,
    commonFields.channel,
    { name: 'type', type: 'string', description: 'opt_in, opt_out, block or spam_report.', constraints: { required: true, enum: SUBSCRIPTION_TYPES } },
    {
      name: 'topic',
      type: 'string',
      sql: "nullIf(topic, '')",
      description: 'Topic label of the subscription (free text up to 128 characters, not pseudonymised); null when absent or empty.',
      constraints: { maxLength: 128 },
    },
    {
      name: 'frequency',
      type: 'string',
      sql: "nullIf(frequency, '')",
      description: 'Frequency the person opted in to; set on opt_in only, and null there too when the source does not say (WhatsApp).',
      constraints: { enum: FREQUENCIES },
    },
    commonFields.regime('event'),
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

export const DATASET_SPECS: Record<DatasetName, DatasetSpec> = {
  sends: SENDS,
  engagements: ENGAGEMENTS,
  subscriptions: SUBSCRIPTIONS,
  daily_metrics: DAILY,
  analysis_panel: ANALYSIS_PANEL,
};
