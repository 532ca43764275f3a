// Constant memory: a 1.5M-row table generated inside the engine is exported over real HTTP in each format
// while the process's RSS is sampled. The embedded engine lives in this process, so RSS counts its memory too.
// The numbers are printed; the only assertion on memory is a generous bound far below the export's size.
import { mkdirSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../common/log.js';
import { createKeyRing, parseKeySpec } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { DATASET_SPECS } from '../query/exports/datasets.js';
import { parquetFooterRows } from '../query/exports/parquet-rows.js';
import { rowCounter } from '../query/exports/row-counter.js';
import { insertSyntheticSends } from './helpers/synthetic-sends.js';
import { waitFor } from './helpers/wait.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const N = 1_500_000;
const KEY = 'researcher-key-memory-01';
const MB = 1024 * 1024;

interface Sample {
  format: string;
  window: string;
  rows: number;
  bytes: number;
  seconds: number;
  rssBeforeMb: number;
  rssPeakMb: number;
}

describe('export memory', () => {
  let t: TestWarehouse;
  let app: FastifyInstance;
  let port: number;
  let tmpDir: string;
  const samples: Sample[] = [];

  beforeAll(async () => {
    t = await openTestWarehouse();
    tmpDir = join(t.dir, 'export-tmp');
    mkdirSync(tmpDir);
    // N sends over 60 days, 200k users, 500 businesses, generated inside the engine.
    await insertSyntheticSends(t.wh, { rows: N, chunk: 300_000, prefix: 'mem', stepMs: 3456, businesses: 500, users: 200_000, campaigns: 97 });
    const config = { ...t.config, exports: { ...t.config.exports, secret: 'memory-test-secret-0123456789', tmpDir } };
    app = await buildApp({ config, wh: t.wh, log: createLogger({}, 'warn'), keys: createKeyRing(parseKeySpec(`${KEY}:researcher`)) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
    await t?.dispose();
    if (samples.length) {
      console.log(
        `\nexport memory (${N.toLocaleString('en-US')} sends; RSS includes the embedded engine)\n` +
          samples
            .map(
              (s) =>
                `  ${s.format.padEnd(8)} ${s.window.padEnd(24)} ${s.rows.toLocaleString('en-US').padStart(10)} rows ${(s.bytes / MB).toFixed(0).padStart(5)} MB ` +
                `${(s.rows / s.seconds).toFixed(0).padStart(8)} rows/s  RSS ${s.rssBeforeMb} -> peak ${s.rssPeakMb} MB (+${s.rssPeakMb - s.rssBeforeMb})`,
            )
            .join('\n'),
      );
    }
  });

  /** Downloads an export over HTTP, keeping nothing but a row count and the last bytes, sampling RSS meanwhile. */
  async function download(format: 'parquet' | 'csv' | 'jsonl', query: string, label: string): Promise<Sample> {
    const counter = rowCounter(format, DATASET_SPECS.sends.fields.length);
    const rss = () => Math.round(process.memoryUsage().rss / MB);
    // Hand memory the engine freed (the inserts above, earlier exports) back to the system, for a fair baseline.
    await t.wh.client.command({ query: 'SYSTEM JEMALLOC PURGE' }).catch(() => undefined);
    const before = rss();
    let peak = before;
    const timer = setInterval(() => (peak = Math.max(peak, rss())), 10);
    const started = performance.now();
    let bytes = 0;
    let tail = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: `/v1/exports/sends?format=${format}${query}`, headers: { authorization: `Bearer ${KEY}` } },
        (res) => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
            counter.push(chunk);
            if (format === 'parquet') tail = Buffer.concat([tail, chunk]).subarray(-4 * MB);
          });
          res.on('end', resolve);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });
    const seconds = (performance.now() - started) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, rss());
    const rows = format === 'parquet' ? (parquetFooterRows(tail) ?? -1) : counter.rows;
    const s = { format, window: label, rows, bytes, seconds, rssBeforeMb: before, rssPeakMb: peak };
    samples.push(s);
    return s;
  }

  it('a client that hangs up mid-export leaves no temp file, and the next export is whole', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/v1/exports/sends?format=jsonl', headers: { authorization: `Bearer ${KEY}` } }, (res) => {
        let got = 0;
        res.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got > 4 * MB) {
            req.destroy();
            resolve();
          }
        });
        res.on('error', () => undefined);
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end();
    });
    await waitFor(() => readdirSync(tmpDir).length === 0, 'the abandoned export to be cleaned up', 120_000);
    const s = await download('csv', '&from=2022-06-01&to=2022-06-06', 'after a hang-up');
    expect(s.rows).toBe(150_000);
  });

  it('streams 1.5M rows in every format with RSS growth far below the export size', async () => {
    // Warm up: the first export of a process allocates the engine's pools and caches once.
    for (const format of ['parquet', 'csv', 'jsonl'] as const) await download(format, '&from=2022-06-01&to=2022-06-01', 'warm-up (1 day)');
    for (const format of ['parquet', 'csv', 'jsonl'] as const) {
      const tenth = await download(format, '&from=2022-06-01&to=2022-06-06', '6 of 60 days');
      expect(tenth.rows).toBe(150_000);
      const all = await download(format, '', 'all 60 days');
      expect(all.rows).toBe(N);
      // Buffering the export would need at least its size (CSV ~450 MB, JSON Lines ~650 MB, Parquet ~90 MB).
      expect(all.rssPeakMb - all.rssBeforeMb).toBeLessThan(format === 'parquet' ? 600 : Math.max(400, (0.6 * all.bytes) / MB));
    }
  });
});
