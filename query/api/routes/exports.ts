// GET /v1/exports/{dataset}: event-level datasets (pseudonymised) and daily metrics (small cells suppressed)
// for researchers, streamed as Parquet, CSV or JSON Lines; GET /v1/exports/{dataset}/datapackage.json
// describes one as a Frictionless Data Package. docs/exports.md has the datasets, fields and guarantees.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge } from 'prom-client';
import { readRegimes } from '../../../warehouse/migrate.js';
import type { RouteModule } from '../route-module.js';
import { Slots } from '../slots.js';
import { documentedEnum } from '../../documented-enum.js';
import { ApiError, errorSchema } from '../../../common/errors.js';
import { buildDataPackage } from '../../exports/datapackage.js';
import { configuredExportQuery, exportFileName, resolveExport } from '../../exports/request.js';
import { DATASETS, FORMATS, type ExportFormat } from '../../exports/spec.js';
import { DATASET_SPECS } from '../../exports/datasets.js';
import { rowCounter } from '../../exports/row-counter.js';
import { keyFingerprint } from '../../exports/pseudonym.js';
import { drainExports, openExportStream, sweepStaleExports } from '../../exports/stream.js';
import { FORMAT_INFO } from '../../exports/spec.js';

interface Params {
  dataset: string;
}
interface Query {
  format: ExportFormat;
  from?: string;
  to?: string;
}

const params = {
  type: 'object',
  required: ['dataset'],
  // Checked by resolveExport, so that another name is 404 NOT_FOUND (docs/exports.md), not a 400.
  properties: { dataset: documentedEnum(DATASETS, { type: 'string', maxLength: 64, description: `One of ${DATASETS.join(', ')}; any other is 404.` }) },
} as const;

const querystring = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { type: 'string', enum: [...FORMATS], default: 'parquet', description: 'parquet (default), csv or jsonl.' },
    from: { type: 'string', maxLength: 32, description: 'First UTC day, YYYY-MM-DD, inclusive; default: no lower bound.' },
    to: { type: 'string', maxLength: 32, description: 'Last UTC day, YYYY-MM-DD, inclusive; default: no upper bound.' },
  },
} as const;

const errors = { 409: errorSchema };

/** Seconds a client refused for a full export lane is asked to wait. */
export const EXPORTS_BUSY_RETRY_AFTER_S = 5;

export const routes: RouteModule = (app, { wh, config, log, metrics }) => {
  const lane = new Slots(config.exports.maxRunning);
  new Gauge({
    name: 'policylens_api_exports_running',
    help: 'Exports streaming now (at most POLICYLENS_EXPORTS_MAX)',
    registers: [metrics],
    collect() {
      this.set(lane.running);
    },
  });
  void sweepStaleExports(config.exports.tmpDir).then(
    (n) => n && log.info('removed temp files of interrupted exports', { count: n }),
    () => undefined,
  );
  // Closing waits for running exports to end and remove their temp files.
  app.addHook('onClose', async () => drainExports());
  app.get<{ Params: Params; Querystring: Query }>(
    '/v1/exports/:dataset',
    {
      config: { permission: 'exports' },
      // HEAD would run the whole export to throw the body away.
      exposeHeadRoute: false,
      schema: {
        tags: ['exports'],
        summary: 'Export a dataset (researcher or admin key)',
        description:
          `Streams ${DATASETS.join(', ')} as Parquet, CSV or JSON Lines. user_id, business_id, event ids and campaign ids are ` +
          'pseudonymised with HMAC-SHA256 under POLICYLENS_EXPORT_SECRET (409 EXPORT_SECRET_MISSING without it); ' +
          'daily_metrics suppresses cells of fewer than POLICYLENS_EXPORT_MIN_CELL (default 10) sends. At most ' +
          'POLICYLENS_EXPORTS_MAX (default 2) exports run at once; another is refused with 503 EXPORTS_BUSY and Retry-After. ' +
          'See docs/exports.md.',
        params,
        querystring,
        response: {
          200: {
            description: 'The export, streamed (chunked).',
            content: {
              'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
              'text/csv': { schema: { type: 'string' } },
              'application/x-ndjson': { schema: { type: 'string' } },
            },
          },
          ...errors,
        },
      },
    },
    async (req: FastifyRequest<{ Params: Params; Querystring: Query }>, reply: FastifyReply) => {
      const r = resolveExport(req.params.dataset, req.query.format, req.query.from, req.query.to, config.exports.secret);
      const query = configuredExportQuery(r, config);
      const release = lane.take();
      if (!release) {
        reply.header('retry-after', String(EXPORTS_BUSY_RETRY_AFTER_S));
        throw new ApiError('EXPORTS_BUSY', `${lane.size} running.`);
      }
      const started = Date.now();
      const ex = await openExportStream(wh, query, r.format, { secret: r.secret, tmpDir: config.exports.tmpDir }).catch((err: unknown) => {
        release();
        throw err;
      });
      // What the client has been handed so far, for the last log line of the export whichever way it ends.
      const sent = rowCounter(r.format, DATASET_SPECS[r.dataset].fields.length);
      let bytes = 0;
      ex.stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        sent.push(chunk);
      });
      const about = () => ({
        dataset: r.dataset,
        format: r.format,
        from: r.window.from,
        to: r.window.to,
        role: req.role,
        rows: sent.rows,
        bytes,
        ms: Date.now() - started,
      });
      // A client that leaves mid-stream (a closed tab, a dropped connection) is nothing wrong on our side: an info
      // line, not an error, and not "finished". Only a response written to its end is finished.
      const clientLeft = () => !reply.raw.writableFinished;
      let failed = false;
      ex.stream.once('error', (err) => {
        // Once the client has gone, the stream's end is the client's doing.
        if (reply.raw.destroyed && clientLeft()) return;
        failed = true;
        log.error('export failed mid-stream', { ...about(), error: err.message });
      });
      const responseClosed = new Promise<void>((resolve) => reply.raw.once('close', () => resolve()));
      // The slot is free when the stream closes: its last byte handed on (so that the same client's next export finds
      // it free), or the client gone. An abandoned embedded export may still finish its query, which the engine cannot
      // interrupt.
      ex.stream.once('close', release);
      // A client gone before the stream was handed on would leave it unread and open, and the slot taken. (A server
      // finishes computing an abandoned export first: the query runs with wait_end_of_query, and until it has ended
      // its slot stays taken, which is the point of the lane.)
      if (reply.raw.destroyed) ex.stream.destroy();
      else reply.raw.once('close', () => ex.stream.destroy());
      void Promise.all([ex.done, responseClosed]).then(
        () => {
          if (failed) return;
          if (clientLeft()) log.info('export abandoned by the client', about());
          else log.info('export finished', about());
        },
        (err: Error) => log.warn('export cleanup failed', { error: err.message }),
      );
      const fmt = FORMAT_INFO[r.format];
      return reply
        .header('content-type', r.format === 'parquet' ? fmt.mediatype : `${fmt.mediatype}; charset=utf-8`)
        .header('content-disposition', `attachment; filename="${exportFileName(r)}"`)
        .header('cache-control', 'no-store')
        .send(ex.stream);
    },
  );

  app.get<{ Params: Params; Querystring: Query }>(
    '/v1/exports/:dataset/datapackage.json',
    {
      config: { permission: 'exports' },
      schema: {
        tags: ['exports'],
        summary: 'Describe an export as a Frictionless Data Package v2',
        description:
          'Fields with types, descriptions and constraints, the metric definitions, the regime table and the query window of the export with the same parameters.',
        params,
        querystring,
        response: { 200: { type: 'object', additionalProperties: true }, ...errors },
      },
    },
    async (req) => {
      const r = resolveExport(req.params.dataset, req.query.format, req.query.from, req.query.to, config.exports.secret);
      const q = new URLSearchParams({ format: r.format, ...(r.window.from ? { from: r.window.from } : {}), ...(r.window.to ? { to: r.window.to } : {}) });
      return buildDataPackage({
        dataset: r.dataset,
        format: r.format,
        window: r.window,
        regimes: await readRegimes(wh),
        // A path that needs a key is no path a validator or a reader can open: the descriptor names the file as it is
        // saved when downloaded, and says where to download it.
        path: exportFileName(r),
        download: `${req.protocol}://${req.host}/v1/exports/${r.dataset}?${q}`,
        keyFingerprint: r.secret ? keyFingerprint(r.secret) : null,
        minCell: config.exports.minCell,
        attributionWindowHours: config.attributionWindowHours,
      });
    },
  );
};
