// What a route module is: a function that adds one concern's routes to the app (query/api/routes/).
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/log.js';
import type { Warehouse } from '../../warehouse/client.js';
import type { AnswerCache } from './answer-cache.js';
import type { DayPartials } from '../metrics/day-partials.js';
import type { KeyRing } from '../../common/api-keys.js';

export interface RouteDeps {
  config: Config;
  wh: Warehouse;
  keys: KeyRing;
  log: Logger;
  /** What GET /metrics serves: process metrics and request counts (common/request-metrics.ts). */
  metrics: Registry;
  /** Answers kept for reuse until the warehouse changes (query/api/answer-cache.ts). */
  answers: AnswerCache;
  /** Day sums kept for reuse by /v1/query (query/metrics/day-partials.ts); used only while the answer cache is on. */
  daySums: DayPartials;
}

export type RouteModule = (app: FastifyInstance, deps: RouteDeps) => void | Promise<void>;
