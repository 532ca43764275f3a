import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyRing, parseKeySpec } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { ERRORS } from '../common/errors.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

describe('error catalog', () => {
  it('matches docs/errors.md code for code, status for status', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(documented).toEqual(Object.entries(ERRORS).map(([code, e]) => [code, e.status]));
  });
});

describe('api keys', () => {
  it('parses key:role lists and rejects unknown roles and short keys', () => {
    expect(parseKeySpec('aaaaaaaaaaaaaaaa:analyst, bbbbbbbbbbbbbbbb:admin')).toEqual([
      { key: 'aaaaaaaaaaaaaaaa', role: 'analyst' },
      { key: 'bbbbbbbbbbbbbbbb', role: 'admin' },
    ]);
    expect(() => parseKeySpec('aaaaaaaaaaaaaaaa:owner')).toThrow(/role one of/);
    expect(() => parseKeySpec('short:admin')).toThrow(/at least 16/);
  });

  it('finds the role of a key and nothing for a wrong one', () => {
    const ring = createKeyRing(parseKeySpec('aaaaaaaaaaaaaaaa:analyst,bbbbbbbbbbbbbbbb:researcher'));
    expect(ring.roleOf('bbbbbbbbbbbbbbbb')).toBe('researcher');
    expect(ring.roleOf('bbbbbbbbbbbbbbbc')).toBeNull();
  });
});

describe('app basics', () => {
  let t: TestWarehouse;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await openTestWarehouse();
    app = await buildApp({ config: t.config, wh: t.wh, keys: createKeyRing([]) });
  });
  afterAll(async () => {
    await app?.close();
    await t?.dispose();
  });

  it('answers health and readiness without a key', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('says NOT_FOUND in the error shape for an unknown route', async () => {
    const res = await app.inject({ url: '/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('serves an OpenAPI 3.1 document and Prometheus metrics', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/healthz');
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/policylens_api_process_cpu_seconds_total/);
  });
});
