// Every route against every role: 401 without a key, 403 for a role its permission excludes, through otherwise.
// The OpenAPI document is validated against the OpenAPI 3.1 schema here too.
import type { FastifyInstance } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, createKeyRing, roleMay } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { TEST_KEYS, openTestApi, type TestApi } from './helpers/api.js';

const KEYS = TEST_KEYS;
// Path parameters get a value the route knows, so a refusal can only come from access control.
const concrete = (url: string) => url.replace(':dataset', 'sends').replace('*', 'index.html');

let api: TestApi;
let app: FastifyInstance;
beforeAll(async () => {
  api = await openTestApi({ POLICYLENS_EXPORT_SECRET: 'a-secret-of-at-least-16-chars' });
  app = api.app;
  await app.ready();
});
afterAll(async () => api?.close());

describe('auth matrix', () => {
  it('covers the API routes', () => {
    const guarded = app.routeTable.filter((r) => r.permission);
    expect(guarded.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /v1/query',
        'GET /v1/regimes',
        'PUT /v1/regimes',
        'GET /v1/frequency-frontier',
        'GET /v1/retention',
        'GET /v1/policy-impact',
        'GET /v1/exports/:dataset',
      ]),
    );
  });

  it('refuses a request without a key, or with an unknown one, on every guarded route', async () => {
    for (const r of app.routeTable.filter((x) => x.permission)) {
      for (const headers of [{}, { authorization: 'Bearer not-a-key-at-all-000000' }]) {
        const res = await app.inject({ method: r.method as 'GET', url: concrete(r.url), headers, payload: r.method === 'GET' ? undefined : {} });
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json().error.code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('gives each role exactly what its permissions grant', async () => {
    for (const r of app.routeTable.filter((x) => x.permission)) {
      for (const role of ROLES) {
        const res = await app.inject({
          method: r.method as 'GET',
          url: concrete(r.url),
          headers: { authorization: `Bearer ${KEYS[role]}` },
          payload: r.method === 'GET' ? undefined : {},
        });
        const what = `${role} ${r.method} ${r.url} -> ${res.statusCode}`;
        if (roleMay(role, r.permission!)) expect([401, 403], what).not.toContain(res.statusCode);
        else {
          expect(res.statusCode, what).toBe(403);
          expect(res.json().error.code).toBe('FORBIDDEN');
        }
      }
    }
  });

  it('keeps the public routes public', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) expect((await app.inject({ url })).statusCode, url).toBe(200);
  });

  it('guards the dashboards with the dashboards permission', async () => {
    expect((await app.inject({ url: '/dashboards/' })).statusCode).toBe(401);
    for (const role of ROLES) {
      const res = await app.inject({ url: '/dashboards/', headers: { authorization: `Bearer ${KEYS[role]}` } });
      if (roleMay(role, 'dashboards')) expect([401, 403], `${role} ${res.statusCode}`).not.toContain(res.statusCode);
      else expect(res.statusCode, role).toBe(403);
    }
  });
});

describe('OpenAPI document', () => {
  it('validates against the OpenAPI 3.1 schema and lists every guarded route', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    const result = await new Validator().validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    for (const r of app.routeTable.filter((x) => x.permission)) {
      const path = r.url.replace(/:(\w+)/g, '{$1}');
      expect(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path}`).toBeDefined();
    }
  });
});

describe('rate limit', () => {
  it('answers RATE_LIMITED past the limit for one key, and counts each key on its own', async () => {
    const limited = await buildApp({
      config: api.t.config,
      wh: api.t.wh,
      keys: createKeyRing(ROLES.map((role) => ({ key: KEYS[role], role }))),
      rateLimitPerMinute: 3,
    });
    try {
      const as = (role: 'analyst' | 'product') => limited.inject({ url: '/v1/regimes', headers: { authorization: `Bearer ${KEYS[role]}` } });
      for (let i = 0; i < 3; i++) expect((await as('analyst')).statusCode).toBe(200);
      const over = await as('analyst');
      expect(over.statusCode).toBe(429);
      expect(over.json().error.code).toBe('RATE_LIMITED');
      expect((await as('product')).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
