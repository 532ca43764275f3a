// Liveness, readiness and Prometheus metrics: public, for load balancers and scrapers.
import type { RouteModule } from '../route-module.js';

const ok = { type: 'object', properties: { status: { type: 'string' } }, required: ['status'] } as const;

export const routes: RouteModule = (app, { wh, metrics }) => {
  app.get('/healthz', { schema: { tags: ['health'], security: [], response: { 200: ok } } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { tags: ['health'], security: [], response: { 200: ok, 503: ok } } }, async (_req, reply) => {
    const ping = await wh.client.ping();
    return ping.success ? { status: 'ready' } : reply.status(503).send({ status: 'warehouse unreachable' });
  });

  app.get('/metrics', { schema: { tags: ['health'], security: [], hide: true } }, async (_req, reply) =>
    reply.type(metrics.contentType).send(await metrics.metrics()),
  );
};
