// Dashboards sessions: `?key=` becomes a signed, expiring session cookie that is not the key, opens the dashboards
// only (never /v1/*), is Secure over https as told by a trusted proxy, ends with its key, and /dashboards/logout
// clears it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../common/config.js';
import { createKeyRing, type Role } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { DASHBOARDS_COOKIE } from '../query/api/routes/dashboards.js';
import { createSessions } from '../query/api/sessions.js';
import { buildFromFixtures } from './fixtures/dashboards/fixture-build.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

const ANALYST = 'analyst-key-0123456789';
const ADMIN = 'admin-key-0123456789-abc';
const SECRET = 'a-session-secret-of-at-least-32-characters';
const HOURS = 2;
const ALL: { key: string; role: Role }[] = [
  { key: ANALYST, role: 'analyst' },
  { key: ADMIN, role: 'admin' },
];

let t: TestWarehouse;
let site: string;
let base: Config;
const apps: FastifyInstance[] = [];

async function appWith(opts: { secret?: string | null; keys?: { key: string; role: Role }[]; proxies?: string[] } = {}): Promise<FastifyInstance> {
  const config: Config = {
    ...base,
    trustedProxies: opts.proxies ?? [],
    sessions: { secret: opts.secret === undefined ? SECRET : opts.secret, hours: HOURS },
    exports: { ...base.exports, secret: 'an-export-secret-of-16-chars' },
  };
  const app = await buildApp({ config, wh: t.wh, keys: createKeyRing(opts.keys ?? ALL) });
  apps.push(app);
  return app;
}

/** Signs in with ?key= and returns the Set-Cookie header and the session value in it. */
async function signIn(app: FastifyInstance, key: string, headers: Record<string, string> = {}): Promise<{ setCookie: string; session: string }> {
  const res = await app.inject({ url: `/dashboards/?key=${key}`, headers });
  expect(res.statusCode).toBe(303);
  const setCookie = String(res.headers['set-cookie']);
  const session = new RegExp(`^${DASHBOARDS_COOKIE}=([^;]*);`).exec(setCookie)?.[1] ?? '';
  return { setCookie, session };
}

const withCookie = (session: string) => ({ cookie: `${DASHBOARDS_COOKIE}=${session}` });

beforeAll(async () => {
  site = mkdtempSync(join(tmpdir(), 'policylens-dash-sessions-'));
  await buildFromFixtures(site);
  t = await openTestWarehouse();
  base = { ...t.config, dashboards: { ...t.config.dashboards, dir: site } };
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await t?.dispose();
  rmSync(site, { recursive: true, force: true });
});

describe('dashboards sessions', () => {
  it('sets a session that is not the key, HttpOnly, SameSite=Strict, for /dashboards only, lasting the configured hours', async () => {
    const app = await appWith();
    const { setCookie, session } = await signIn(app, ANALYST);
    expect(setCookie).toMatch(new RegExp(`^${DASHBOARDS_COOKIE}=[^;]+; Path=/dashboards; HttpOnly; SameSite=Strict; Max-Age=${HOURS * 3600}$`));
    expect(session).not.toContain(ANALYST);
    expect(session).not.toContain(Buffer.from(ANALYST).toString('base64url').slice(0, 12));
    expect((await app.inject({ url: '/dashboards/funnel.html', headers: withCookie(session) })).statusCode).toBe(200);
  });

  it('does not open /v1/*, not even for an admin, as a bearer key or as a cookie', async () => {
    const app = await appWith();
    const { session } = await signIn(app, ADMIN);
    const calls = [
      { method: 'POST', url: '/v1/query', payload: { metrics: ['sends'], from: '2022-01-01', to: '2022-01-02' } },
      { method: 'GET', url: '/v1/exports/daily_metrics?from=2022-01-01&to=2022-01-02' },
      { method: 'GET', url: '/v1/regimes' },
      { method: 'PUT', url: '/v1/regimes', payload: { regimes: [] } },
    ] as const;
    for (const call of calls) {
      // The admin key itself gets through, so a refusal below comes from the session not being a key.
      const asKey = await app.inject({ ...call, headers: { authorization: `Bearer ${ADMIN}` } });
      expect([401, 403], `${call.method} ${call.url} with the key`).not.toContain(asKey.statusCode);
      for (const headers of [{ authorization: `Bearer ${session}` }, withCookie(session)]) {
        const res = await app.inject({ ...call, headers });
        expect(res.statusCode, `${call.method} ${call.url} ${Object.keys(headers)[0]}`).toBe(401);
        expect(res.json().error.code).toBe('UNAUTHORIZED');
      }
    }
  });

  it('is Secure when a trusted proxy says the request came over https, and only then', async () => {
    const proxied = await appWith({ proxies: ['127.0.0.1'] });
    expect((await signIn(proxied, ANALYST, { 'x-forwarded-proto': 'https' })).setCookie).toMatch(/; Secure$/);
    expect((await signIn(proxied, ANALYST)).setCookie).not.toMatch(/Secure/);
    const direct = await appWith();
    expect((await signIn(direct, ANALYST, { 'x-forwarded-proto': 'https' })).setCookie).not.toMatch(/Secure/);
  });

  it('expires: a session past its time is refused, saying how to sign in again', async () => {
    const app = await appWith();
    const sessions = createSessions(createKeyRing(ALL), SECRET, HOURS * 3_600_000);
    const fresh = sessions.issue(ANALYST);
    expect((await app.inject({ url: '/dashboards/', headers: withCookie(fresh) })).statusCode).toBe(200);
    const old = sessions.issue(ANALYST, Date.now() - HOURS * 3_600_000 - 1_000);
    const res = await app.inject({ url: '/dashboards/', headers: withCookie(old) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toMatch(/session has expired or ended.*\?key=/);
  });

  it('refuses a session whose expiry was changed, or signed with another secret', async () => {
    const app = await appWith();
    const { session } = await signIn(app, ANALYST);
    const [tag, exp, sig] = session.split('.');
    const later = `${tag}.${Number(exp) + 86_400}.${sig}`;
    expect((await app.inject({ url: '/dashboards/', headers: withCookie(later) })).statusCode).toBe(401);
    const other = createSessions(createKeyRing(ALL), `${SECRET}-other`, HOURS * 3_600_000).issue(ANALYST);
    expect((await app.inject({ url: '/dashboards/', headers: withCookie(other) })).statusCode).toBe(401);
    expect((await app.inject({ url: '/dashboards/', headers: withCookie(ANALYST) })).statusCode).toBe(401);
  });

  it('outlives a restart with the same secret, and ends when its key is revoked', async () => {
    const { session } = await signIn(await appWith(), ANALYST);
    expect((await (await appWith()).inject({ url: '/dashboards/', headers: withCookie(session) })).statusCode).toBe(200);
    const revoked = await appWith({ keys: ALL.filter((k) => k.key !== ANALYST) });
    expect((await revoked.inject({ url: '/dashboards/', headers: withCookie(session) })).statusCode).toBe(401);
  });

  it('without a configured secret, lasts only as long as the process that made it', async () => {
    const one = await appWith({ secret: null });
    const { session } = await signIn(one, ANALYST);
    expect((await one.inject({ url: '/dashboards/', headers: withCookie(session) })).statusCode).toBe(200);
    const two = await appWith({ secret: null });
    expect((await two.inject({ url: '/dashboards/', headers: withCookie(session) })).statusCode).toBe(401);
  });

  it('is cleared by /dashboards/logout (GET or POST), Secure over https', async () => {
    const proxied = await appWith({ proxies: ['127.0.0.1'] });
    for (const method of ['GET', 'POST'] as const) {
      const res = await proxied.inject({ method, url: '/dashboards/logout' });
      expect(res.statusCode, method).toBe(200);
      expect(res.headers['set-cookie']).toBe(`${DASHBOARDS_COOKIE}=; Path=/dashboards; HttpOnly; SameSite=Strict; Max-Age=0`);
      expect(res.body).toMatch(/\?key=/);
    }
    const https = await proxied.inject({ url: '/dashboards/logout', headers: { 'x-forwarded-proto': 'https' } });
    expect(https.headers['set-cookie']).toMatch(/Max-Age=0; Secure$/);
  });
});
