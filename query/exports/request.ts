// An export request, from names and dates to the query that produces it: checked before any work, with every
// value as a typed query parameter.
import type { Config } from '../../common/config.js';
import { ApiError } from '../../common/errors.js';
import { attributionWindowParam } from '../sql/attribution.js';
import { DATASET_SPECS } from './datasets.js';
import { checkExportSecret } from './pseudonym.js';
import { DATASETS, FORMAT_INFO, isDataset, type DatasetName, type ExportFormat } from './spec.js';
import { parseWindow, windowParams, windowSql, type ExportWindow } from './window.js';

export interface ExportRequest {
  dataset: DatasetName;
  format: ExportFormat;
  window: ExportWindow;
  /** Required when the dataset has identifiers. */
  secret: string | null;
  /** config.exports.minCell: daily_metrics cells built from fewer sends than this are suppressed. */
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
  if (spec.aggregated) {
    if (spec.aggregated.suppressed) params.pl_min_cell = req.minCell;
    Object.assign(params, attributionWindowParam(req.attributionWindowHours));
  }
  return { sql: spec.select({ window: req.window }), params, settings: spec.settings };
}

/** A count of the rows an export of a row dataset will hold (none for an aggregated one) (cheap: no pseudonyms, no formatting). */
export function countQuery(dataset: DatasetName, window: ExportWindow): { sql: string; params: Record<string, unknown> } | null {
  if (DATASET_SPECS[dataset].aggregated) return null;
  return { sql: `SELECT count() AS n FROM ${DATASET_SPECS[dataset].table} WHERE ${windowSql(window)}`, params: windowParams(window) };
}

export interface ResolvedExport {
  dataset: DatasetName;
  format: ExportFormat;
  window: ExportWindow;
  secret: string | null;
}

/** The file name an export is downloaded as (Content-Disposition), which its HTTP datapackage.json names as its path. */
export function exportFileName(r: Pick<ResolvedExport, 'dataset' | 'format' | 'window'>): string {
  const span = r.window.from || r.window.to ? `_${r.window.from ?? 'start'}_${r.window.to ?? 'end'}` : '';
  return `${r.dataset}${span}.${FORMAT_INFO[r.format].extension}`;
}

/**
 * Checks everything a request names before any work: dataset, dates, and the secret (config.exports.secret)
 * when identifiers are in it.
 */
export function resolveExport(
  dataset: string,
  format: ExportFormat,
  from: string | undefined,
  to: string | undefined,
  configuredSecret: string | null,
): ResolvedExport {
  if (!isDataset(dataset)) throw new ApiError('NOT_FOUND', `No dataset ${JSON.stringify(dataset.slice(0, 64))}; datasets: ${DATASETS.join(', ')}.`);
  const window = parseWindow(from, to);
  let secret: string | null = null;
  if (DATASET_SPECS[dataset].identifiers) {
    const s = checkExportSecret(configuredSecret);
    if (!s.ok) throw new ApiError('EXPORT_SECRET_MISSING', s.reason);
    secret = s.secret;
  }
  return { dataset, format, window, secret };
}

/** The query of a resolved export under the configured small-cell threshold and attribution window. */
export function configuredExportQuery(r: ResolvedExport, config: Pick<Config, 'exports' | 'attributionWindowHours'>): ExportQuery {
  return exportQuery({ ...r, minCell: config.exports.minCell, attributionWindowHours: config.attributionWindowHours });
}
