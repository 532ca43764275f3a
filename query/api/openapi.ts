// What the OpenAPI document (/openapi.json) says about every operation beyond its own schema: the error statuses
// that follow from what the route is, and the enums of allow-lists that are checked in code (query/documented-enum.ts).
import type { RouteOptions } from 'fastify';
import { DOCUMENTED_ENUM } from '../documented-enum.js';
import { errorSchema } from '../../common/errors.js';

/**
 * The error statuses a route can answer because of what it is, each with the catalog's error schema:
 * - 429 (the rate limit counts every request) and 500, on every route;
 * - 400 when it takes a body, query string or path parameters (a value the schema refuses), 413 when it takes a body;
 * - 401 and 403 when it needs a key, and 503 then too: every keyed route reads the warehouse;
 * - 404 and 414 when it has path parameters (a resource that does not exist; a parameter over the router's 100
 *   characters).
 * What only the route's own code answers (409, 422, a 503 of /readyz) the route declares itself; a declaration of
 * the route's own wins. 405 is not an operation's answer: it goes to a method no operation of the path takes.
 */
export function errorStatusesOf(route: Pick<RouteOptions, 'schema' | 'config'>): number[] {
  const s = route.schema ?? {};
  const statuses = [429, 500];
  if (s.body || s.querystring || s.params) statuses.push(400);
  if (s.body) statuses.push(413);
  if (route.config?.permission) statuses.push(401, 403, 503);
  if (s.params) statuses.push(404, 414);
  return statuses.sort((a, b) => a - b);
}

/** onRoute hook: adds errorStatusesOf(route) to the response schemas of every route the document shows. */
export function addErrorResponses(route: RouteOptions): void {
  if (route.schema?.hide) return;
  const schema = (route.schema ??= {});
  const own = (schema.response ?? {}) as Record<string, unknown>;
  schema.response = { ...Object.fromEntries(errorStatusesOf(route).map((status) => [status, errorSchema])), ...own };
}

/**
 * A route schema as the document shows it (JSON Schema 2020-12, as OpenAPI 3.1 has it): every documented enum written
 * as `enum`, and the tuples requests are validated with (draft-07 `items: [...]`, `additionalItems`) written as
 * `prefixItems` and `items`.
 */
export function forDocument(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(forDocument);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  const tuple = Array.isArray((schema as { items?: unknown }).items);
  for (const [key, value] of Object.entries(schema)) {
    if (key === DOCUMENTED_ENUM) out.enum = value;
    else if (tuple && key === 'items') out.prefixItems = forDocument(value);
    else if (tuple && key === 'additionalItems') out.items = forDocument(value);
    else out[key] = forDocument(value);
  }
  return out;
}
