// A client that leaves in the middle of an export is not an error on our side: it is logged at info level as
// abandoned, with what it had been sent, and never as an error or as a finished export.
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { drainExports } from '../query/exports/stream.js';
import { TEST_KEYS, useTestApi } from './helpers/api.js';
import { recordingLogger, type Line } from './helpers/log.js';

const lines: Line[] = [];
const api = useTestApi({ POLICYLENS_EXPORT_SECRET: 'a-secret-of-at-least-16-chars' }, undefined, recordingLogger(lines));

describe('an export the client abandons', () => {
  it('is logged as abandoned at info level, with rows and bytes sent, and not as an error or finished', async () => {
    await api.loadSimulated({ events: 30_000, seed: 7 });
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const address = api.app.server.address() as AddressInfo;
    const received = await new Promise<number>((resolve, reject) => {
      const req = get(
        { host: '127.0.0.1', port: address.port, path: '/v1/exports/sends?format=jsonl', headers: { authorization: `Bearer ${TEST_KEYS.researcher}` } },
        (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', (chunk: Buffer) => {
            res.destroy();
            resolve(chunk.length);
          });
        },
      );
      req.on('error', reject);
    });
    expect(received).toBeGreaterThan(0);
    await expect.poll(() => lines.find((l) => /abandoned/.test(l.msg)), { timeout: 20_000 }).toBeTruthy();
    await drainExports();

    const abandoned = lines.find((l) => /abandoned/.test(l.msg));
    expect(abandoned?.msg).toBe('export abandoned by the client');
    expect(abandoned?.level).toBe('info');
    expect(abandoned?.fields).toMatchObject({ dataset: 'sends', format: 'jsonl' });
    expect(abandoned?.fields.bytes).toBeGreaterThanOrEqual(received);
    expect(abandoned?.fields.rows).toBeGreaterThan(0);
    expect(lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'export finished')).toEqual([]);
  }, 60_000);

  it('is logged as finished, with its rows and bytes, when the client reads it to the end', async () => {
    const address = api.app.server.address() as AddressInfo;
    const from = lines.length;
    const body = await new Promise<Buffer>((resolve, reject) => {
      get(
        { host: '127.0.0.1', port: address.port, path: '/v1/exports/sends?format=jsonl', headers: { authorization: `Bearer ${TEST_KEYS.researcher}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        },
      ).on('error', reject);
    });
    await expect.poll(() => lines.slice(from).find((l) => l.msg === 'export finished'), { timeout: 20_000 }).toBeTruthy();
    const finished = lines.slice(from).find((l) => l.msg === 'export finished');
    expect(finished?.fields).toMatchObject({ bytes: body.length, rows: body.toString().trim().split('\n').length });
    expect(lines.slice(from).filter((l) => /abandoned/.test(l.msg) || l.level === 'error')).toEqual([]);
  }, 60_000);
});
