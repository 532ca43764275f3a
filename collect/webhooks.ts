// Meta's webhooks: the verification handshake, and each signed POST appended to the raw topic byte for byte. The
// mapping to contract events reads that topic (and may re-read it), so nothing here interprets a payload beyond
// what a Kafka message needs: that it is JSON with an `object`, and which account it is about (its key).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RAW_HEADERS } from '../events/topics.js';
import { ApiError } from '../common/errors.js';
import { SIGNATURE_HEADER, verifySignature } from '../sources/meta/signature.js';
import { objectLabel } from './metrics.js';
import { SCHEMAS } from './openapi.js';
import { appendOr503, type CollectDeps } from './deps.js';

export const WEBHOOK_PATH = '/v1/webhooks/meta';
export const META_SOURCE = 'meta';

/** Whether two strings are equal, compared in constant time (their digests are, so lengths say nothing either). */
function sameSecret(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The payload's `object` and the first entry's id, or why the payload is not one Meta would send. */
function envelope(body: Buffer): { object: string; account: string | null } | { problem: 'not_json' | 'no_object' } {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(body));
  } catch {
    return { problem: 'not_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'no_object' };
  const { object, entry } = value as { object?: unknown; entry?: unknown };
  if (typeof object !== 'string' || object === '') return { problem: 'no_object' };
  const first: unknown = Array.isArray(entry) ? entry[0] : undefined;
  const id = typeof first === 'object' && first !== null ? (first as { id?: unknown }).id : undefined;
  return { object, account: typeof id === 'string' || typeof id === 'number' ? String(id) : null };
}

export function webhookRoutes(app: FastifyInstance, deps: CollectDeps): void {
  const { config, metrics } = deps;
  const secret = config.collect.metaAppSecret;
  // Without an app secret no POST can be checked, so neither route exists (404) rather than half of them.
  if (!secret) return;

  app.get(WEBHOOK_PATH, { schema: SCHEMAS.verify }, async (req, reply: FastifyReply) => {
    const q = req.query as Record<string, string | undefined>;
    const token = config.collect.metaVerifyToken;
    if (!token || q['hub.mode'] !== 'subscribe' || !sameSecret(q['hub.verify_token'], token) || typeof q['hub.challenge'] !== 'string') {
      throw new ApiError('VERIFY_TOKEN_MISMATCH');
    }
    return reply.type('text/plain; charset=utf-8').send(q['hub.challenge']);
  });

  app.post(WEBHOOK_PATH, { bodyLimit: config.collect.webhookMaxBytes, schema: SCHEMAS.webhook }, async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifySignature(body, req.headers[SIGNATURE_HEADER], secret)) {
      metrics.badSignatures.inc();
      throw new ApiError('BAD_SIGNATURE');
    }
    const env = envelope(body);
    if ('problem' in env) {
      metrics.webhooksRejected.inc({ reason: env.problem });
      throw new ApiError('BAD_WEBHOOK', env.problem === 'not_json' ? 'The body is not UTF-8 JSON.' : '');
    }
    // One account's payloads share a partition, so whoever maps them sees them in the order they arrived.
    const message = {
      key: env.account,
      value: body,
      headers: { [RAW_HEADERS.receivedAt]: new Date().toISOString(), [RAW_HEADERS.source]: META_SOURCE },
    };
    const ok = await appendOr503(deps, reply, [{ topic: deps.topics.raw, messages: [message] }], 'webhooks');
    if (!ok) return reply;
    metrics.webhooksAppended.inc({ object: objectLabel(env.object) });
    return { received: true };
  });
}
