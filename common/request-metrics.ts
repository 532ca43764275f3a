// Request counts and latencies for /metrics. The route label is the route's URL pattern (`/v1/exports/:dataset`),
// or `unmatched` when no route took the request (404, 405, a URL the router refused): never the raw URL, which anyone
// can vary, so the number of series stays bounded by the routes the app has.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Histogram, type Registry } from 'prom-client';

export const UNMATCHED_ROUTE = 'unmatched';

/** Seconds; from a health check to an export of a minute. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Counts one answered request. */
export type RecordRequest = (req: FastifyRequest, reply: FastifyReply) => void;

/** `prefix` names the service: `policylens_api_` or `policylens_collect_`. */
export function createRequestMetrics(registry: Registry, prefix: string): RecordRequest {
  const requests = new Counter({
    name: `${prefix}requests_total`,
    help: 'Requests answered, by method, route pattern (or unmatched) and status code',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${prefix}request_duration_seconds`,
    help: 'Time from receiving a request to the end of its response, by method and route pattern (or unmatched)',
    labelNames: ['method', 'route'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  return (req, reply) => {
    // The not-found handler and Fastify's frameworkErrors have no URL pattern.
    const route = req.is404 || !req.routeOptions.url ? UNMATCHED_ROUTE : req.routeOptions.url;
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
  };
}

/** Records every response that goes through Fastify's hooks; add before the routes so it applies to all of them. */
export function installRequestMetrics(app: FastifyInstance, record: RecordRequest): void {
  app.addHook('onResponse', async (req, reply) => record(req, reply));
}
