// The event contract v1 as JSON Schema (draft 2020-12), loaded from events/schemas/*.json for tools and tests.
// events/validate.ts is the authority; test/schemas.test.ts keeps the two in step. The schemas cannot express
// "occurred_at at most now + 1 day" or the 64 KiB size limit: only the pipeline checks those.
import { readFileSync } from 'node:fs';

/** A JSON Schema document as read from disk; every one of ours has an `$id`. */
export type JsonSchema = { $id: string; $schema: string; [keyword: string]: unknown };

function load(file: string): JsonSchema {
  return JSON.parse(readFileSync(new URL(`./schemas/${file}`, import.meta.url), 'utf8')) as JsonSchema;
}

/** Shared `$defs` (event_id, occurred_at, ...) referenced by the three family schemas. */
export const commonSchema = load('common.schema.json');
/** A send event (topic policylens.sends). */
export const sendSchema = load('send.schema.json');
/** An engagement event (topic policylens.engagements). */
export const engagementSchema = load('engagement.schema.json');
/** A subscription event (topic policylens.subscriptions). */
export const subscriptionSchema = load('subscription.schema.json');
/** Any event, dispatched on `type` to one of the three above. */
export const eventSchema = load('event.schema.json');

/** Every schema, for `new Ajv({ schemas })` or `ajv.addSchema(...)`: the family schemas `$ref` the common one. */
export const allSchemas: readonly JsonSchema[] = [commonSchema, sendSchema, engagementSchema, subscriptionSchema, eventSchema];
