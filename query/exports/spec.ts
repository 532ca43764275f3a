// What an export is: the dataset and format names, the field descriptors (Table Schema, Frictionless v2) with the
// SQL of each column, and the fields several datasets share.
import { CHANNELS } from '../../events/types.js';
import { PSEUDONYM_PATTERN, type PseudonymDomain } from './pseudonym.js';
import type { ExportWindow } from './window.js';

export const DATASETS = ['sends', 'engagements', 'subscriptions', 'daily_metrics', 'analysis_panel'] as const;
export type DatasetName = (typeof DATASETS)[number];
export const isDataset = (name: string): name is DatasetName => (DATASETS as readonly string[]).includes(name);

export const FORMATS = ['parquet', 'csv', 'jsonl'] as const;
export type ExportFormat = (typeof FORMATS)[number];
export const isFormat = (name: string): name is ExportFormat => (FORMATS as readonly string[]).includes(name);

/** Counts an export's rows as its bytes go by, per format (row-counter.ts, parquet-rows.ts). */
export interface RowCounter {
  /** Feed the next bytes of the file. */
  push(chunk: Uint8Array): void;
  /** Rows seen so far (complete rows only). */
  readonly rows: number;
}

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
  /** Raw table (or the sends table for the aggregated datasets) the rows come from. */
  table: string;
  /** Set for datasets of cells of sends (daily_metrics, analysis_panel): what the window applies to, the row order, and whether small cells are suppressed. */
  aggregated?: { by: string; order: string; suppressed: boolean };
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

export const pseudonymField = (name: string, domain: PseudonymDomain, description: string, required = true, unique = false): ExportField => ({
  name,
  type: 'string',
  description,
  pseudonym: domain,
  constraints: { ...(required ? { required: true } : {}), ...(unique ? { unique: true } : {}), pattern: PSEUDONYM_PATTERN },
});

export const PSEUDONYM_NOTE =
  'Lower-case hex HMAC-SHA256 under the export key (docs/exports.md, Pseudonymisation): stable for one secret, unrelated under another.';

export const commonFields = {
  eventId: (what: string) => pseudonymField('event_id', 'event', `Pseudonym of the ${what}'s event_id. ${PSEUDONYM_NOTE} Unique per row.`, true, true),
  occurredAt: (what: string): ExportField => ({
    name: 'occurred_at',
    type: 'datetime',
    description: `When the ${what} happened, UTC, millisecond precision (ISO 8601 with Z in CSV and JSONL; a UTC timestamp in milliseconds in Parquet).`,
    constraints: { required: true },
  }),
  businessId: pseudonymField(
    'business_id',
    'business',
    `Pseudonym of the business (business_id). ${PSEUDONYM_NOTE} The same business has the same pseudonym in every dataset of one secret.`,
  ),
  userId: pseudonymField(
    'user_id',
    'user',
    `Pseudonym of the person (user_id). ${PSEUDONYM_NOTE} The same person has the same pseudonym in every dataset of one secret.`,
  ),
  channel: { name: 'channel', type: 'string', description: 'Messaging channel.', constraints: { required: true, enum: CHANNELS } } as ExportField,
  regime: (when: string): ExportField => ({
    name: 'regime',
    type: 'string',
    description: `Policy regime in force for the channel when the ${when} happened, as stored with the event: derived from the regime table (resource "regimes") at ingest time, or named by the producer; "unknown" outside every range.`,
    constraints: { required: true, maxLength: 64 },
  }),
};

/** Each format: the engine's name for it, its media type and file extension, and its title in a datapackage. */
export const FORMAT_INFO: Record<ExportFormat, { clickhouse: string; mediatype: string; extension: string; title: string }> = {
  parquet: { clickhouse: 'Parquet', mediatype: 'application/vnd.apache.parquet', extension: 'parquet', title: 'Apache Parquet' },
  csv: { clickhouse: 'CSVWithNames', mediatype: 'text/csv', extension: 'csv', title: 'CSV (RFC 4180) with a header row' },
  jsonl: { clickhouse: 'JSONEachRow', mediatype: 'application/x-ndjson', extension: 'jsonl', title: 'JSON Lines' },
};
