// GET /metrics counts requests by method, route pattern and status, and times them by method and route pattern.
import { describe, expect, it } from 'vitest';
import { authAs, useTestApi } from './helpers/api.js';

const api = useTestApi();

/** The value of one series in Prometheus text, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-z_:][a-z0-9_:]*)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2].split(',');
    if (have.length === wanted.length && wanted.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

describe('request metrics', () => {
  it('counts a 200, a 401, a 404 and a 400 under the route pattern, never the raw URL', async () => {
    const { app } = api;
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/v1/query', payload: {} })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/no-such-route/12345' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/v1/exports/sends?format=xml', headers: authAs('admin') })).statusCode).toBe(400);
    // Answered by Fastify's frameworkErrors, outside the hooks, and a 405 from the not-found handler.
    expect((await app.inject({ url: '/v1/exports/%ff' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'DELETE', url: '/v1/query' })).statusCode).toBe(405);

    const text = (await app.inject({ url: '/metrics' })).body;
    expect(text).toContain('# TYPE policylens_api_requests_total counter');
    expect(text).toContain('# TYPE policylens_api_request_duration_seconds histogram');
    const count = (method: string, route: string, status: string) => sample(text, 'policylens_api_requests_total', { method, route, status });
    expect(count('GET', '/healthz', '200')).toBe(2);
    expect(count('POST', '/v1/query', '401')).toBe(1);
    expect(count('GET', 'unmatched', '404')).toBe(1);
    expect(count('GET', '/v1/exports/:dataset', '400')).toBe(1);
    expect(count('GET', 'unmatched', '400')).toBe(1);
    expect(count('DELETE', 'unmatched', '405')).toBe(1);
    expect(text).not.toContain('no-such-route');
    expect(text).not.toContain('/v1/exports/sends');
    expect(text).not.toContain('%ff');

    expect(sample(text, 'policylens_api_request_duration_seconds_count', { method: 'GET', route: '/healthz' })).toBe(2);
    expect(sample(text, 'policylens_api_request_duration_seconds_bucket', { method: 'GET', route: '/healthz', le: '+Inf' })).toBe(2);
    expect(sample(text, 'policylens_api_request_duration_seconds_sum', { method: 'POST', route: '/v1/query' })).toBeGreaterThan(0);
    expect(sample(text, 'policylens_api_request_duration_seconds_count', { method: 'GET', route: 'unmatched' })).toBe(2);
  });
});
