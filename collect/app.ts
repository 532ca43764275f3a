// Builds collect, the HTTP front door to Kafka, as a function: tests drive it with inject(), `collect` and
// `serve`/`up` listen. Bodies are kept as the bytes received (a webhook's signature is over those bytes), and every
// answer that says "accepted" comes after Kafka acknowledged (collect/kafka-sink.ts).
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { assertRoleMay, bearer, type KeyRing, type Permission } from '../common/api-keys.js';
import type { Config } from '../common/config.js';
import { ApiError } from '../common/errors.js';
import { clientErrorReplier, frameworkErrorReplier, installErrorReplies } from '../common/error-replies.js';
import { createLogger, type Logger } from '../common/log.js';
import { installRequestMetrics } from '../common/request-metrics.js';
import { topicNames } from '../events/topics.js';
import type { CollectDeps } from './deps.js';
import { eventRoutes } from './events.js';
import type { KafkaSink } from './kafka-sink.js';
import { createCollectMetrics, type CollectMetrics } from './metrics.js';
import { registerOpenApi, SCHEMAS } from './openapi.js';
import { webhookRoutes } from './webhooks.js';

export interface CollectAppDeps {
  config: Config;
  keys: KeyRing;
  sink: KafkaSink;
  log?: Logger;
  metrics?: CollectMetrics;
}

export async function buildCollectApp(deps: CollectAppDeps): Promise<FastifyInstance> {
  const log = deps.log ?? createLogger({ component: 'collect' }, deps.config.log.level);
  const metrics = deps.metrics ?? createCollectMetrics();
  const { config, keys } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: Math.max(config.collect.webhookMaxBytes, config.collect.maxBytes),
    frameworkErrors: frameworkErrorReplier(log, metrics.recordRequest),
    clientErrorHandler: clientErrorReplier(log),
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
  });
  installErrorReplies(app, log, 'KAFKA_UNAVAILABLE');
  installRequestMetrics(app, metrics.recordRequest);

  // Every body is taken as bytes, whatever its type: the routes decide what they are (signed JSON, NDJSON, gzip).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // As in the API: the rate limit counts a request before its key is judged, per valid key or else per address.
  const roleOf = (req: FastifyRequest) => {
    const key = bearer(req.headers.authorization);
    return key ? keys.roleOf(key) : null;
  };
  await app.register(rateLimit, {
    global: false,
    max: config.collect.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => (roleOf(req) ? `key:${bearer(req.headers.authorization)}` : `address:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => Object.assign(new ApiError('RATE_LIMITED', `Limit ${ctx.max} per minute.`), { statusCode: 429 }),
  });
  const limited = app.rateLimit();
  app.addHook('onRoute', (route) => {
    const permission = (route.config as { permission?: Permission } | undefined)?.permission;
    if (!permission) return;
    const guard = async (req: FastifyRequest) => {
      const role = roleOf(req);
      if (!role) throw new ApiError('UNAUTHORIZED');
      assertRoleMay(role, permission);
    };
    route.onRequest = [limited, guard];
  });

  await registerOpenApi(app);
  const full: CollectDeps = { config, keys, sink: deps.sink, topics: topicNames(config.kafka.topicPrefix), metrics, log };
  app.get('/healthz', { schema: SCHEMAS.health }, async () => ({ status: 'ok' }));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  webhookRoutes(app, full);
  eventRoutes(app, full);
  return app;
}
