// `policylens export DATASET --out FILE [--format parquet|csv|jsonl] [--from YYYY-MM-DD] [--to YYYY-MM-DD]`:
// the API's export written to a file, with a progress bar, and datapackage.json beside it (row count, bytes, sha256).
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../common/config.js';
import { createProgress } from '../common/progress.js';
import { queryRows, type Warehouse } from '../warehouse/client.js';
import { readRegimes } from '../warehouse/migrate.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { ApiError } from '../common/errors.js';
import { buildDataPackage } from '../query/exports/datapackage.js';
import { DATASET_SPECS } from '../query/exports/datasets.js';
import { configuredExportQuery, countQuery, type ResolvedExport, resolveExport } from '../query/exports/request.js';
import { DATASETS, FORMATS, isFormat } from '../query/exports/spec.js';
import { keyFingerprint } from '../query/exports/pseudonym.js';
import { parquetFooterRows } from '../query/exports/parquet-rows.js';
import { rowCounter } from '../query/exports/row-counter.js';
import { openExportStream, sweepStaleExports } from '../query/exports/stream.js';
import { UsageError } from './usage-error.js';

export interface ExportDeps {
  /** An open warehouse to use (and leave open); default: open the configured one. */
  wh?: Warehouse;
  /** Default: loaded from the environment. */
  config?: Config;
  /** Where the progress bar goes; default stderr. */
  progress?: NodeJS.WriteStream;
}

export interface ExportResult {
  out: string;
  datapackage: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** Reads the footer of a Parquet file for its row count. */
async function parquetRows(path: string): Promise<number | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const tailBytes = Math.min(size, 8 * 1024 * 1024);
    const buf = Buffer.alloc(tailBytes);
    await fh.read(buf, 0, tailBytes, size - tailBytes);
    return parquetFooterRows(buf);
  } finally {
    await fh.close();
  }
}

export async function exportToFile(argv: string[], deps: ExportDeps = {}): Promise<ExportResult> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'parquet' }, out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(`export needs exactly one DATASET (${DATASETS.join(', ')})`);
  const format = values.format!;
  if (!isFormat(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  if (!values.out) throw new UsageError('--out FILE is required');
  const config = deps.config ?? loadConfig();
  let r: ResolvedExport;
  try {
    r = resolveExport(positionals[0], format, values.from, values.to, config.exports.secret);
  } catch (err) {
    if (err instanceof ApiError && err.code !== 'EXPORT_SECRET_MISSING') throw new UsageError(err.message);
    throw err;
  }
  const out = resolve(values.out);
  const partial = join(dirname(out), `.${basename(out)}.partial`);
  const packagePath = join(dirname(out), 'datapackage.json');
  const minCell = config.exports.minCell;

  const wh = deps.wh ?? (await openReadyWarehouse(config)).wh;
  try {
    const cq = countQuery(r.dataset, r.window);
    const total = cq ? Number((await queryRows<{ n: string }>(wh, cq.sql, cq.params))[0].n) : null;
    const progress = createProgress(`export ${r.dataset}`, total, deps.progress);
    await sweepStaleExports(config.exports.tmpDir);
    const ex = await openExportStream(wh, configuredExportQuery(r, config), r.format, {
      secret: r.secret,
      tmpDir: config.exports.tmpDir,
    });
    const hash = createHash('sha256');
    const counter = rowCounter(r.format, DATASET_SPECS[r.dataset].fields.length);
    let bytes = 0;
    await mkdir(dirname(out), { recursive: true });
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        counter.push(chunk);
        bytes += chunk.length;
        progress.tick(counter.rows);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(ex.stream, tap, createWriteStream(partial, { mode: 0o600 }));
      await ex.done;
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const rows = r.format === 'parquet' ? ((await parquetRows(partial)) ?? counter.rows) : counter.rows;
    const sha256 = hash.digest('hex');
    await rename(partial, out);
    const descriptor = buildDataPackage({
      dataset: r.dataset,
      format: r.format,
      window: r.window,
      regimes: await readRegimes(wh),
      path: basename(out),
      keyFingerprint: r.secret ? keyFingerprint(r.secret) : null,
      minCell,
      attributionWindowHours: config.attributionWindowHours,
      file: { bytes, sha256, rows },
    });
    await writeFile(packagePath, `${JSON.stringify(descriptor, null, 2)}\n`);
    progress.tick(rows);
    progress.finish(`${rows.toLocaleString('en-US')} rows, ${bytes.toLocaleString('en-US')} bytes -> ${out}`);
    return { out, datapackage: packagePath, rows, bytes, sha256 };
  } finally {
    if (!deps.wh) await wh.close();
  }
}

export async function runExport(argv: string[], deps: ExportDeps = {}): Promise<number> {
  await exportToFile(argv, deps);
  return 0;
}
