// datapackage.json for an export: a Frictionless Data Package v2 whose first resource is the export
// (a table with its Table Schema) and whose second is the regime table, inline.
import type { Regime } from '../../warehouse/regimes.js';
import { CHANNELS } from '../../events/types.js';
import { DAILY_METRICS } from './daily-metrics.js';
import { DATASET_SPECS } from './datasets.js';
import type { DatasetName, ExportField, ExportFormat } from './spec.js';
import type { ExportWindow } from './window.js';
import { KEY_LABEL, MIN_SECRET_LENGTH, EXPORT_SECRET_ENV } from './pseudonym.js';
import { PARQUET_ROW_GROUP_ROWS } from './stream.js';
import { FORMAT_INFO } from './spec.js';

export const DATAPACKAGE_SCHEMA = 'https://datapackage.org/profiles/2.0/datapackage.json';
export const TABLESCHEMA_SCHEMA = 'https://datapackage.org/profiles/2.0/tableschema.json';

export interface DataPackageInput {
  dataset: DatasetName;
  format: ExportFormat;
  window: ExportWindow;
  regimes: Regime[];
  /** The data file's name beside the descriptor: as written (CLI), or as downloaded (API). */
  path: string;
  /** The API: the export's URL, which needs a researcher or admin key. */
  download?: string;
  /** Set when the secret is (needed and) known. */
  keyFingerprint: string | null;
  minCell: number;
  attributionWindowHours: number;
  /** Known only once the file exists (CLI). */
  file?: { bytes: number; sha256: string; rows: number };
  created?: Date;
}

type TableField = Omit<ExportField, 'sql' | 'pseudonym' | 'constraints'> & { constraints?: Record<string, unknown> };

function tableField(f: ExportField): TableField {
  const out: TableField = { name: f.name, type: f.type, description: f.description };
  if (f.title) out.title = f.title;
  if (f.type === 'datetime') Object.assign(out, { format: 'default' });
  if (f.constraints) out.constraints = { ...f.constraints, ...(f.constraints.enum ? { enum: [...f.constraints.enum] } : {}) };
  return out;
}

export const METRIC_DEFINITIONS = DAILY_METRICS.map((m) => ({ name: m.name, title: m.title ?? m.name, unit: m.unit, definition: m.description }));

function windowText(w: ExportWindow): string {
  if (w.from === null && w.to === null) return 'all events';
  return `events from ${w.from ?? 'the first'} to ${w.to ?? 'the last'} (UTC days, both inclusive)`;
}

export function buildDataPackage(input: DataPackageInput): Record<string, unknown> {
  const spec = DATASET_SPECS[input.dataset];
  const fmt = FORMAT_INFO[input.format];
  const resource: Record<string, unknown> = {
    name: spec.name,
    type: 'table',
    title: spec.title,
    description: `${spec.description} Rows: ${windowText(input.window)}, by ${spec.aggregated?.by ?? 'occurred_at'}; in no particular order${spec.aggregated ? ` other than by ${spec.aggregated.order}` : ''}.`,
    path: input.path,
    format: fmt.extension,
    mediatype: fmt.mediatype,
    ...(input.format === 'parquet' ? {} : { encoding: 'utf-8' }),
    ...(input.format === 'csv'
      ? {
          dialect: {
            $schema: 'https://datapackage.org/profiles/2.0/tabledialect.json',
            header: true,
            delimiter: ',',
            lineTerminator: '\n',
            quoteChar: '"',
            doubleQuote: true,
          },
        }
      : {}),
    ...(input.file ? { bytes: input.file.bytes, hash: `sha256:${input.file.sha256}`, rows: input.file.rows } : {}),
    schema: {
      $schema: TABLESCHEMA_SCHEMA,
      fields: spec.fields.map(tableField),
      missingValues: [''],
      ...(spec.primaryKey ? { primaryKey: spec.primaryKey } : {}),
    },
  };
  const regimes = {
    name: 'regimes',
    type: 'table',
    title: 'Policy regimes',
    description: 'The regime table at export time: which policy regime a channel was under, as half-open UTC date ranges [start, end).',
    // Inline data has no format or media type: frictionless reads either as naming a file to open.
    data: input.regimes.map((r) => ({ channel: r.channel, regime: r.regime, start: r.start, end: r.end, label: r.label })),
    schema: {
      $schema: TABLESCHEMA_SCHEMA,
      fields: [
        { name: 'channel', type: 'string', description: 'Messaging channel.', constraints: { required: true, enum: [...CHANNELS] } },
        { name: 'regime', type: 'string', description: 'Regime name, as in the regime columns of the exports.', constraints: { required: true } },
        { name: 'start', type: 'date', description: 'First UTC day of the regime (inclusive).', constraints: { required: true } },
        { name: 'end', type: 'date', description: 'UTC day the next regime starts (exclusive); null while the regime is in force.' },
        { name: 'label', type: 'string', description: 'Short human-readable description.' },
      ],
      primaryKey: ['channel', 'start'],
    },
  };
  return {
    $schema: DATAPACKAGE_SCHEMA,
    name: `policylens-${spec.name.replace(/_/g, '-')}`,
    title: `policylens export: ${spec.title}`,
    description: `${spec.description} Exported by policylens (docs/exports.md).`,
    version: '1.0.0',
    created: (input.created ?? new Date()).toISOString(),
    keywords: ['business messaging', 'policy', 'engagement', 'spam risk'],
    resources: [resource, regimes],
    // Custom properties (allowed by the specification): how to read the export correctly.
    policylens: {
      ...(input.download
        ? {
            download: {
              url: input.download,
              authorization: 'Bearer <a researcher or admin key>',
              save_as: input.path,
              note: 'Save the export under save_as beside this file: resources[0].path names it there.',
            },
          }
        : {}),
      window: {
        from: input.window.from,
        to: input.window.to,
        timezone: 'UTC',
        inclusive: true,
        applies_to: spec.aggregated?.by ?? 'occurred_at',
      },
      pseudonymisation: spec.identifiers
        ? {
            method: 'HMAC-SHA256',
            fields: spec.fields.filter((f) => f.pseudonym).map((f) => ({ name: f.name, domain: f.pseudonym })),
            value: `lower-case hex of HMAC-SHA256(K, "<domain>:<raw value>"), K = HMAC-SHA256(${EXPORT_SECRET_ENV}, "${KEY_LABEL}")`,
            key_fingerprint: input.keyFingerprint,
            note: `Pseudonyms are stable for one secret (the key_fingerprint tells whether two exports share it) and unrelated under another. The secret (at least ${MIN_SECRET_LENGTH} characters) is kept apart from the exports. Pseudonymised data is still personal data: the rows can be linked per person.`,
          }
        : null,
      ...(spec.aggregated?.suppressed
        ? {
            min_cell: input.minCell,
            suppression: `Cells with fewer than ${input.minCell} sends have suppressed = true and every measure null (empty in CSV, null in JSON Lines and Parquet).`,
          }
        : {}),
      ...(spec.aggregated ? { attribution_window_hours: input.attributionWindowHours } : {}),
      metrics: METRIC_DEFINITIONS,
      ...(input.format === 'parquet' ? { parquet: { compression: 'zstd', row_group_rows: PARQUET_ROW_GROUP_ROWS } } : {}),
    },
  };
}
