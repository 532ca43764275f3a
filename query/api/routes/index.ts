// Every route module of the API, in the order they are registered (and listed in /openapi.json). A new route
// file is added here.
import type { RouteModule } from '../route-module.js';
import { routes as dashboards } from './dashboards.js';
import { routes as exports } from './exports.js';
import { routes as frontier } from './frontier.js';
import { routes as health } from './health.js';
import { routes as policyImpact } from './policy-impact.js';
import { routes as query } from './query.js';
import { routes as regimes } from './regimes.js';
import { routes as retention } from './retention.js';

export const ROUTE_MODULES: readonly RouteModule[] = [dashboards, exports, frontier, health, policyImpact, query, regimes, retention];
