// Exports have a lane of their own: at most POLICYLENS_EXPORTS_MAX run at once, one more is refused at once with
// 503 EXPORTS_BUSY and Retry-After, and queries are answered meanwhile.
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EXPORTS_BUSY_RETRY_AFTER_S } from '../query/api/routes/exports.js';
import { Slots } from '../query/api/slots.js';
import { drainExports } from '../query/exports/stream.js';
import { authAs, TEST_KEYS, useTestApi } from './helpers/api.js';
import { recordingLogger, type Line } from './helpers/log.js';
import { insertSyntheticSends } from './helpers/synthetic-sends.js';

const lines: Line[] = [];
const api = useTestApi({ POLICYLENS_EXPORT_SECRET: 'a-secret-of-at-least-16-chars', POLICYLENS_EXPORTS_MAX: '1' }, undefined, recordingLogger(lines));

/** Starts an export over HTTP and hands back the response without reading its body. */
function startExport(port: number, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${TEST_KEYS.researcher}` } }, resolve).on('error', reject);
  });
}

/** Waits until an export is taken again: the slot a finished or abandoned export held is free. */
const expectSlotFree = () =>
  expect
    .poll(async () => (await api.app.inject({ url: '/v1/exports/daily_metrics?format=csv', headers: authAs('researcher') })).statusCode, {
      timeout: 30_000,
      interval: 200,
    })
    .toBe(200);

describe('the export lane', () => {
  it('refuses an export beyond the limit with 503 EXPORTS_BUSY and Retry-After, answers queries meanwhile, and frees the slot', async () => {
    // Enough rows that the CSV cannot sit in socket buffers: the first export stays open while its client does not read.
    await insertSyntheticSends(api.t.wh, { rows: 300_000, chunk: 300_000, prefix: 'lane', stepMs: 997, businesses: 50, users: 5_000, campaigns: 7 });
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = api.app.server.address() as AddressInfo;

    const first = await startExport(port, '/v1/exports/sends?format=csv');
    expect(first.statusCode).toBe(200);

    const busy = await api.app.inject({ url: '/v1/exports/daily_metrics?format=csv', headers: authAs('researcher') });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe(String(EXPORTS_BUSY_RETRY_AFTER_S));
    expect(busy.json()).toMatchObject({ error: { code: 'EXPORTS_BUSY' } });

    const query = await api.app.inject({
      method: 'POST',
      url: '/v1/query',
      headers: authAs('analyst'),
      payload: { metrics: ['sends'], date_range: ['2022-06-01', '2022-06-30'] },
    });
    expect(query.statusCode, query.body).toBe(200);
    const metrics = (await api.app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^policylens_api_exports_running 1$/m);

    first.destroy();
    await expectSlotFree();
    await drainExports();
  }, 120_000);
});

describe('an export whose client leaves before it starts streaming', () => {
  it('gives its slot back, and is not logged as an error', async () => {
    const { port } = api.app.server.address() as AddressInfo;
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const req = get({ host: '127.0.0.1', port, path: '/v1/exports/sends?format=parquet', headers: { authorization: `Bearer ${TEST_KEYS.researcher}` } });
        req.on('error', () => resolve());
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 5);
      });
    }
    await expectSlotFree();
    await drainExports();
    expect(lines.filter((l) => l.level === 'error' || l.level === 'warn').map((l) => `${l.msg} ${JSON.stringify(l.fields)}`)).toEqual([]);
  }, 60_000);
});

describe('Slots', () => {
  it('gives out at most its size, and takes each back once', () => {
    const slots = new Slots(2);
    const a = slots.take();
    const b = slots.take();
    expect(a && b).toBeTruthy();
    expect(slots.take()).toBeNull();
    a?.();
    a?.();
    expect(slots.running).toBe(1);
    expect(slots.take()).not.toBeNull();
    expect(slots.take()).toBeNull();
  });
});
