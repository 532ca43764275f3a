// Builds the HTTP API as a function, so tests can drive it with inject() and `serve`/`up` can listen.
import Fastify, { type FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Registry } from 'prom-client';
import type { Config } from '../../common/config.js';
import { createLogger, type Logger } from '../../common/log.js';
import { collectProcessMetrics } from '../../common/process-metrics.js';
import type { Warehouse } from '../../warehouse/client.js';
import { assertRoleMay, bearer, type KeyRing, type Permission, type Role } from '../../common/api-keys.js';
import { ApiError } from '../../common/errors.js';
import { clientErrorReplier, frameworkErrorReplier, installErrorReplies } from '../../common/error-replies.js';
import { AnswerCache } from './answer-cache.js';
import { DayPartials } from '../metrics/day-partials.js';
import { addErrorResponses, forDocument } from './openapi.js';
import { createRequestMetrics, installRequestMetrics } from '../../common/request-metrics.js';
import { ROUTE_MODULES } from './routes/index.js';
import { schemaController } from './validators.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What a key's role must grant to call the route; absent means public. */
    permission?: Permission;
  }
  interface FastifyRequest {
    role?: Role;
  }
  interface FastifyInstance {
    /** Every route with the permission it needs (null when public), for the auth matrix and the docs. */
    routeTable: { method: string; url: string; permission: Permission | null }[];
  }
}

export interface AppDeps {
  config: Config;
  wh: Warehouse;
  keys: KeyRing;
  log?: Logger;
  /** Requests per minute per valid API key, or per client address for requests without one; default: the config's. */
  rateLimitPerMinute?: number;
}

export const BODY_LIMIT_BYTES = 64 * 1024;

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const log = deps.log ?? createLogger({ component: 'api' }, deps.config.log.level);
  // One registry per app, so that tests building several apps each read their own counts.
  const metrics = new Registry();
  collectProcessMetrics(metrics, 'policylens_api_');
  const recordRequest = createRequestMetrics(metrics, 'policylens_api_');
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT_BYTES,
    frameworkErrors: frameworkErrorReplier(log, recordRequest),
    clientErrorHandler: clientErrorReplier(log),
    schemaController,
    // Only listed proxies may name the client (X-Forwarded-For); anyone else could pick an address to rate-limit under.
    trustProxy: deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false,
  });

  app.decorate('routeTable', [] as FastifyInstance['routeTable']);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') app.routeTable.push({ method, url: route.url, permission: route.config?.permission ?? null });
    }
  });
  app.addHook('onRoute', addErrorResponses);
  installErrorReplies(app, log);
  installRequestMetrics(app, recordRequest);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'policylens API', version: '1.0.0', description: 'Engagement, spam risk and revenue by frequency, policy regime, channel and category.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema: forDocument(schema) as typeof schema, url }),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Who is asking, then the rate limit, then what they may do: a request without a valid key counts against its
  // address before it is refused, so wrong keys cannot be tried without limit, and they never eat the budget of a
  // valid key, which counts on its own. (The plugin's own hooks would run after authentication, so it is not global.)
  app.addHook('onRequest', async (req) => {
    const key = bearer(req.headers.authorization);
    req.role = (key && deps.keys.roleOf(key)) || undefined;
  });
  await app.register(rateLimit, {
    global: false,
    max: deps.rateLimitPerMinute ?? deps.config.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (req) => (req.role ? `key:${bearer(req.headers.authorization)}` : `address:${req.ip}`),
    errorResponseBuilder: (_req, ctx) => {
      const err = new ApiError('RATE_LIMITED', `Limit ${ctx.max} per minute.`);
      return Object.assign(err, { statusCode: 429 });
    },
  });
  app.addHook('onRequest', app.rateLimit());
  app.addHook('onRequest', async (req) => {
    const permission = req.routeOptions.config?.permission;
    if (!permission) return;
    if (!req.role) throw new ApiError('UNAUTHORIZED');
    assertRoleMay(req.role, permission);
  });

  const answers = new AnswerCache(deps.wh, deps.config.answerCache, metrics);
  const daySums = new DayPartials(() => answers.currentVersion().then((v) => v ?? ''), metrics);
  const full = { config: deps.config, wh: deps.wh, keys: deps.keys, log, metrics, answers, daySums };
  for (const routes of ROUTE_MODULES) await routes(app, full);
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
