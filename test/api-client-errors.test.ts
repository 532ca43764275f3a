// Requests no route answers, and URLs the router cannot take: each gets its own 4xx in the catalog's error shape,
// and none is logged as an error (anyone can send them, so an error line each time would let anyone flood the log).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../common/log.js';
import { ERRORS } from '../query/errors.js';
import { authAs, useTestApi } from './helpers/api.js';

const logged: { level: string; msg: string }[] = [];
const record =
  (level: string) =>
  (msg: string): void => {
    logged.push({ level, msg });
  };
const log: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error'), child: () => log };

const api = useTestApi({}, undefined, log);
beforeEach(() => {
  logged.length = 0;
});

const errorLines = () => logged.filter((l) => l.level === 'error');

/** The body is the catalog's shape, with a documented code of the answered status. */
function expectCatalogError(res: { statusCode: number; json(): unknown }, code: keyof typeof ERRORS): void {
  expect(res.json()).toEqual({ error: { code, message: expect.stringMatching(/^\S/) } });
  expect(res.statusCode).toBe(ERRORS[code].status);
}

describe('methods no route answers', () => {
  it('answers 405 with Allow for a method a known path does not take, body or none, and logs no error', async () => {
    const cases = [
      { method: 'QUERY', url: '/healthz', allow: 'GET, HEAD' },
      { method: 'PROPFIND', url: '/v1/query', allow: 'POST' },
      { method: 'TRACE', url: '/v1/query', allow: 'POST' },
      { method: 'DELETE', url: '/v1/regimes', allow: 'GET, HEAD, PUT' },
    ] as const;
    for (const c of cases) {
      for (const payload of [undefined, 'x']) {
        const res = await api.app.inject({ method: c.method, url: c.url, payload });
        expectCatalogError(res, 'METHOD_NOT_ALLOWED');
        expect(res.headers.allow).toBe(c.allow);
      }
    }
    // HEAD is answered without a body; exports take no HEAD (it would run the whole export).
    const head = await api.app.inject({ method: 'HEAD', url: '/v1/exports/send_events', headers: authAs('researcher') });
    expect([head.statusCode, head.headers.allow]).toEqual([405, 'GET']);
    expect(errorLines()).toEqual([]);
  });

  it('keeps 404 NOT_FOUND for a path no route has, whatever the method', async () => {
    for (const method of ['GET', 'QUERY', 'PROPFIND', 'TRACE'] as const) {
      const res = await api.app.inject({ method, url: '/v1/nothing-here' });
      expectCatalogError(res, 'NOT_FOUND');
      expect(res.headers.allow).toBeUndefined();
    }
    expect(errorLines()).toEqual([]);
  });

  it('still answers a known method with its route', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await api.app.inject({ method: 'GET', url: '/v1/regimes', headers: authAs('analyst') })).statusCode).toBe(200);
  });
});
