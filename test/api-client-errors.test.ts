// Requests no route answers, and URLs the router cannot take: each gets its own 4xx in the catalog's error shape,
// and none is logged as an error (anyone can send them, so an error line each time would let anyone flood the log).
import { connect } from 'node:net';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../common/log.js';
import { ERRORS } from '../common/errors.js';
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

describe('URLs the router cannot take', () => {
  it('answers a path parameter over 100 characters with 414 URL_TOO_LONG', async () => {
    const res = await api.app.inject({ url: `/v1/exports/${'a'.repeat(101)}`, headers: authAs('researcher') });
    expectCatalogError(res, 'URL_TOO_LONG');
    expect(errorLines()).toEqual([]);
  });

  it('answers a percent-escape that is not UTF-8 with 400 BAD_URL', async () => {
    for (const url of ['/v1/exports/%ff', '/v1/exports/%c3%28/datapackage.json']) {
      const res = await api.app.inject({ url, headers: authAs('researcher') });
      expectCatalogError(res, 'BAD_URL');
    }
    expect(errorLines()).toEqual([]);
  });
});

describe('requests that are not HTTP', () => {
  it('answers a raw 0xFF byte in the request line with 400 MALFORMED_REQUEST', async () => {
    const address = await api.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
      socket.write(Buffer.concat([Buffer.from('GET /v1/exports/'), Buffer.from([0xff]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]));
    });
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(body)).toEqual({ error: { code: 'MALFORMED_REQUEST', message: ERRORS.MALFORMED_REQUEST.message } });
    expect(errorLines()).toEqual([]);
  });
});
