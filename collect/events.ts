// POST /v1/events: the business's own events in the contract (docs/events.md), as a JSON array or NDJSON, gzip
// allowed. Each event passes the ingest's own parse step; the valid ones are produced to their family's topic keyed
// by user_id (as ingest/produce.ts does), and the answer waits for Kafka's acknowledgement.
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import type { Message } from 'kafkajs';
import { ApiError } from '../common/errors.js';
import type { EventFamily } from '../events/types.js';
import { parseStep } from '../ingest/steps.js';
import { appendOr503, type CollectDeps } from './deps.js';
import { SCHEMAS } from './openapi.js';

export const EVENTS_PATH = '/v1/events';

const gunzipAsync = promisify(gunzip);
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export interface Rejected {
  /** Position in the array, or among the non-empty lines of NDJSON, from 0. */
  index: number;
  reason: string;
  detail: string;
}

async function decoded(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const e = (encoding ?? 'identity').trim().toLowerCase();
  if (e === 'identity' || e === '') return body;
  if (e !== 'gzip' && e !== 'x-gzip') throw new ApiError('UNSUPPORTED_ENCODING', `Got ${JSON.stringify(encoding)}.`);
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new ApiError('BODY_TOO_LARGE', `More than ${maxBytes} bytes once decompressed.`);
    throw new ApiError('BAD_REQUEST', 'The body is not valid gzip.');
  }
}

/** The events of a body as one text each: the elements of a JSON array, or the non-empty lines of NDJSON. */
function splitEvents(bytes: Buffer): string[] {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new ApiError('BAD_REQUEST', 'The body is not UTF-8.');
  }
  if (/^\s*\[/.test(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ApiError('BAD_REQUEST', `The body starts as a JSON array but is not valid JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(value)) throw new ApiError('BAD_REQUEST', 'The body must be a JSON array of events or NDJSON.');
    return value.map((v) => JSON.stringify(v) ?? 'undefined');
  }
  const lines: string[] = [];
  for (const line of text.split('\n')) if (line.trim() !== '') lines.push(line);
  return lines;
}

export function eventRoutes(app: FastifyInstance, deps: CollectDeps): void {
  const { maxBytes, maxEvents } = deps.config.collect;
  app.post(EVENTS_PATH, { bodyLimit: maxBytes, config: { permission: 'ingest' }, schema: SCHEMAS.events }, async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const lines = splitEvents(await decoded(body, req.headers['content-encoding'], maxBytes));
    if (lines.length > maxEvents) throw new ApiError('TOO_MANY_EVENTS', `${lines.length} events; the limit is ${maxEvents}.`);
    const now = Date.now();
    const rejected: Rejected[] = [];
    const byFamily = new Map<EventFamily, Message[]>();
    lines.forEach((line, index) => {
      const step = parseStep(line, now);
      if (step.kind === 'dlq') {
        rejected.push({ index, reason: step.reason, detail: step.detail });
        return;
      }
      const { family, row } = step.value;
      const list = byFamily.get(family) ?? [];
      if (!byFamily.has(family)) byFamily.set(family, list);
      list.push({ key: row.user_id, value: line });
    });
    const accepted = lines.length - rejected.length;
    if (accepted > 0) {
      const batch = [...byFamily].map(([family, messages]) => ({ topic: deps.topics.events[family], messages }));
      if (!(await appendOr503(deps, reply, batch, 'events'))) return reply;
    }
    deps.metrics.events.inc({ outcome: 'accepted' }, accepted);
    deps.metrics.events.inc({ outcome: 'rejected' }, rejected.length);
    return { accepted, rejected };
  });
}
