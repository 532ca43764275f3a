// collect's OpenAPI document (/openapi.json). Bodies are taken as bytes and checked by the routes themselves (a
// webhook must keep its exact bytes; /v1/events takes an array or NDJSON), so they are described in words and in
// docs/collect.md rather than as schemas the framework would validate against.
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { errorSchema } from '../common/errors.js';

export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'policylens collect',
        version: '1.0.0',
        description: "Meta's webhooks and a business's own events into Kafka, each answered 200 only once Kafka acknowledged it (docs/collect.md).",
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

/** The catalog's error shape under each of `statuses`. */
export const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, errorSchema]));

export const SCHEMAS = {
  verify: {
    tags: ['webhooks'],
    summary: "Meta's verification handshake: the challenge back, as text, for subscribe with the configured token",
    querystring: {
      type: 'object',
      properties: { 'hub.mode': { type: 'string' }, 'hub.verify_token': { type: 'string' }, 'hub.challenge': { type: 'string' } },
    },
    response: { 200: { type: 'string' }, ...errors(403) },
  },
  webhook: {
    tags: ['webhooks'],
    summary: 'One signed webhook POST, appended byte for byte to the raw topic',
    description: 'The body is Meta\'s JSON as sent; X-Hub-Signature-256 must be "sha256=" and the hex HMAC-SHA256 of its bytes with the app secret.',
    headers: { type: 'object', properties: { 'x-hub-signature-256': { type: 'string' } } },
    response: { 200: { type: 'object', properties: { received: { type: 'boolean' } } }, ...errors(400, 401, 413, 500, 503) },
  },
  events: {
    tags: ['events'],
    summary: "A business's own events in the contract: each checked, the valid ones in Kafka before the answer",
    description:
      'The body is a JSON array of events or NDJSON, gzip allowed (Content-Encoding), at most 10,000 events or 5 MB by default (docs/events.md, docs/collect.md).',
    security: [{ bearer: [] }],
    response: {
      200: {
        type: 'object',
        required: ['accepted', 'rejected'],
        properties: {
          accepted: { type: 'integer' },
          rejected: {
            type: 'array',
            items: {
              type: 'object',
              required: ['index', 'reason', 'detail'],
              properties: { index: { type: 'integer' }, reason: { type: 'string' }, detail: { type: 'string' } },
            },
          },
        },
      },
      ...errors(400, 401, 403, 413, 415, 429, 500, 503),
    },
  },
  health: { tags: ['health'], response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } },
} as const;
