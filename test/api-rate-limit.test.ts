// The rate limit comes before authentication: requests without a valid key count against their address, so wrong
// keys cannot be tried without limit, and they do not eat the budget of a valid key, which counts per key.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';
import { buildApp } from '../query/api/app.js';
import { createKeyRing } from '../common/api-keys.js';
import { ERRORS } from '../common/errors.js';
import { authAs, useTestApi } from './helpers/api.js';

const LIMIT = 3;
const api = useTestApi({}, LIMIT);

const get = (remoteAddress: string, headers: Record<string, string> = {}) => api.app.inject({ url: '/v1/regimes', remoteAddress, headers });
const wrongKey = { authorization: 'Bearer wrong-key-0123456789abcdef' };

describe('rate limit before authentication', () => {
  it('limits wrong keys per client address: 429 RATE_LIMITED with Retry-After after the limit', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await get('10.0.0.1', wrongKey)).statusCode).toBe(401);
    const limited = await get('10.0.0.1', { authorization: 'Bearer another-wrong-key-0123456789' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringContaining(ERRORS.RATE_LIMITED.message) } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // No key at all counts against the same address.
    expect((await get('10.0.0.1')).statusCode).toBe(429);
  });

  it('does not let wrong keys from an address eat the budget of a valid key', async () => {
    expect((await get('10.0.0.2', authAs('product'))).statusCode).toBe(200);
    // Even from the address that has spent its own budget on wrong keys.
    expect((await get('10.0.0.1', authAs('product'))).statusCode).toBe(200);
  });

  it('counts a valid key per key, whatever address it comes from', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await get(`10.0.1.${i}`, authAs('researcher'))).statusCode).toBe(200);
    const limited = await get('10.0.1.99', authAs('researcher'));
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
  });
});

describe('rate limit behind a trusted proxy (POLICYLENS_TRUSTED_PROXIES)', () => {
  // A second app over the same warehouse (the embedded engine allows one per process), with the proxies listed.
  let proxied: FastifyInstance;
  beforeAll(async () => {
    const configured = loadConfig({ POLICYLENS_TRUSTED_PROXIES: '192.0.2.10,198.51.100.0/24', POLICYLENS_RATE_LIMIT: String(LIMIT) });
    // The limit comes from the configuration here (POLICYLENS_RATE_LIMIT), not from buildApp's argument.
    const config = { ...api.t.config, trustedProxies: configured.trustedProxies, rateLimitPerMinute: configured.rateLimitPerMinute };
    proxied = await buildApp({ config, wh: api.t.wh, keys: createKeyRing([]) });
  });
  afterAll(async () => proxied?.close());
  const via = (remoteAddress: string, client: string) =>
    proxied.inject({ url: '/v1/regimes', remoteAddress, headers: { ...wrongKey, 'x-forwarded-for': client } });

  it('counts each forwarded client on its own when the proxy is trusted', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await via('192.0.2.10', '203.0.113.1')).statusCode).toBe(401);
    expect((await via('192.0.2.10', '203.0.113.1')).statusCode).toBe(429);
    // Another client behind the same proxy (or behind another listed one) still has its budget.
    expect((await via('192.0.2.10', '203.0.113.2')).statusCode).toBe(401);
    expect((await via('198.51.100.7', '203.0.113.3')).statusCode).toBe(401);
  });

  it('ignores X-Forwarded-For from an address that is not a listed proxy', async () => {
    for (let i = 0; i < LIMIT; i++) expect((await via('10.9.9.9', `203.0.113.${100 + i}`)).statusCode).toBe(401);
    // A new forwarded address each time does not buy a new budget.
    expect((await via('10.9.9.9', '203.0.113.200')).statusCode).toBe(429);
  });
});
