// /dashboards/: static files of a built site behind a key with the "dashboards" permission (bearer header,
// or ?key= once, which becomes a session cookie), nothing outside the site directory, safe headers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from '../dashboards/csv.js';
import { createKeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { DASHBOARDS_COOKIE, resolveStatic } from '../query/api/routes/dashboards.js';
import { buildFromFixtures } from './fixtures/dashboards/fixture-build.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const ANALYST = 'analyst-key-0123456789';
const PRODUCT = 'product-key-0123456789';
const bearer = (k: string) => ({ authorization: `Bearer ${k}` });

describe('GET /dashboards/', () => {
  let t: TestWarehouse;
  let app: FastifyInstance;
  let empty: FastifyInstance;
  let site: string;

  beforeAll(async () => {
    site = mkdtempSync(join(tmpdir(), 'policylens-dash-site-'));
    await buildFromFixtures(site);
    t = await openTestWarehouse();
    const keys = createKeyRing([
      { key: ANALYST, role: 'analyst' },
      { key: PRODUCT, role: 'product' },
    ]);
    const withSite = { ...t.config, dashboards: { ...t.config.dashboards, dir: site } };
    app = await buildApp({ config: withSite, wh: t.wh, keys });
    const without = { ...t.config, dashboards: { ...t.config.dashboards, dir: join(site, 'not-built') } };
    empty = await buildApp({ config: without, wh: t.wh, keys });
  });
  afterAll(async () => {
    await app?.close();
    await empty?.close();
    await t?.dispose();
    rmSync(site, { recursive: true, force: true });
  });

  it('wants a key with the dashboards permission', async () => {
    const none = await app.inject({ url: '/dashboards/' });
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('UNAUTHORIZED');
    expect(none.json().error.message).toMatch(/\?key=/);
    expect((await app.inject({ url: '/dashboards/', headers: bearer('wrong-key-0123456789') })).statusCode).toBe(401);
    const product = await app.inject({ url: '/dashboards/', headers: bearer(PRODUCT) });
    expect(product.statusCode).toBe(403);
    expect(product.json().error.code).toBe('FORBIDDEN');
  });

  it('serves the index, pages, CSV and assets with their types and a strict CSP', async () => {
    const index = await app.inject({ url: '/dashboards/', headers: bearer(ANALYST) });
    expect(index.statusCode).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'self'/);
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect(index.body).toMatch(/policylens dashboards/);
    const page = await app.inject({ url: '/dashboards/frequency.messenger.html', headers: bearer(ANALYST) });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/<svg/);
    const csv = await app.inject({ url: '/dashboards/data/funnel.stages.csv', headers: bearer(ANALYST) });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(parseCsv(csv.body)[0]).toEqual(['channel', 'category', 'stage', 'stage_index', 'count', 'share_of_sends']);
    expect((await app.inject({ url: '/dashboards/dashboards.js', headers: bearer(ANALYST) })).headers['content-type']).toBe('text/javascript; charset=utf-8');
    const bare = await app.inject({ url: '/dashboards', headers: bearer(ANALYST) });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/dashboards/');
  });

  it('turns ?key= into a session cookie (never the key) and a redirect without the key', async () => {
    const res = await app.inject({ url: `/dashboards/funnel.html?key=${ANALYST}` });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/dashboards/funnel.html');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(new RegExp(`^${DASHBOARDS_COOKIE}=[^;]+; Path=/dashboards; HttpOnly; SameSite=Strict; Max-Age=\\d+$`));
    expect(cookie).not.toContain(ANALYST);
    const session = cookie.slice(DASHBOARDS_COOKIE.length + 1, cookie.indexOf(';'));
    const again = await app.inject({ url: '/dashboards/funnel.html', headers: { cookie: `other=1; ${DASHBOARDS_COOKIE}=${session}` } });
    expect(again.statusCode).toBe(200);
    // The key itself is no session (test/dashboards-sessions.test.ts has the rest).
    expect((await app.inject({ url: '/dashboards/funnel.html', headers: { cookie: `${DASHBOARDS_COOKIE}=${ANALYST}` } })).statusCode).toBe(401);
    expect((await app.inject({ url: `/dashboards/?key=${PRODUCT}` })).statusCode).toBe(403);
  });

  it('never leaves the site directory', async () => {
    for (const url of [
      '/dashboards/../package.json',
      '/dashboards/%2e%2e/package.json',
      '/dashboards/data/..%2f..%2fpackage.json',
      '/dashboards/..%5cpackage.json',
      '/dashboards/data',
      '/dashboards/nothing.html',
    ]) {
      const res = await app.inject({ url, headers: bearer(ANALYST) });
      expect([404, 400], url).toContain(res.statusCode);
      expect(res.body).not.toMatch(/"name": "policylens"/);
    }
    expect(resolveStatic(site, '../package.json')).toBeNull();
    expect(resolveStatic(site, 'data/../index.html')).toBeNull();
    expect(resolveStatic(site, '')).toBe(join(site, 'index.html'));
  });

  it('says how to build when there is no site', async () => {
    const res = await empty.inject({ url: '/dashboards/', headers: bearer(ANALYST) });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toMatch(/dashboards build/);
  });

  it('stays out of the OpenAPI document', async () => {
    const doc = (await app.inject({ url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/dashboards'))).toEqual([]);
  });
});
