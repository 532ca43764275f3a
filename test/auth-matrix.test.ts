// Every route against every role: 401 without a key, 403 for a role its permission excludes, through otherwise.
// The OpenAPI document is validated against the OpenAPI 3.1 schema here too.
import type { FastifyInstance } from 'fastify';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, createKeyRing, roleMay, type Role } from '../query/api-keys.js';
import { buildApp } from '../query/app.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const KEYS = Object.fromEntries(ROLES.map((r) => [r, `matrix-key-for-${r}-0123456789`])) as Record<Role, string>;
// Path parameters get a value the route knows, so a refusal can only come from access control.
const concrete = (url: string) => url.replace(':dataset', 'sends').replace('*', 'index.html');

let t: TestWarehouse;
let app: FastifyInstance;
beforeAll(async () => {
  t = await openTestWarehouse({ POLICYLENS_EXPORT_SECRET: 'a-secret-of-at-least-16-chars' });
  app = await buildApp({ config: t.config, wh: t.wh, keys: createKeyRing(ROLES.map((role) => ({ key: KEYS[role], role }))), rateLimitPerMinute: 100_000 });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await t?.dispose();
});

describe('auth matrix', () => {
  it('covers the API routes', () => {
    const guarded = app.routeTable.filter((r) => r.permission);
    expect(guarded.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining(['POST /v1/query', 'GET /v1/regimes', 'PUT /v1/regimes', 'GET /v1/frequency-frontier', 'GET /v1/retention', 'GET /v1/policy-impact', 'GET /v1/exports/:dataset']),
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
