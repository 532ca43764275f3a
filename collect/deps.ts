// What collect's routes share: the configuration, the Kafka sink, topic names, metrics; and the one way a route
// answers when Kafka does not acknowledge (503 with Retry-After, which Meta's retries and our clients honour).
import type { FastifyReply } from 'fastify';
import type { KeyRing } from '../common/api-keys.js';
import type { Config } from '../common/config.js';
import { errorBody } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import type { TopicNames } from '../events/topics.js';
import type { KafkaSink, TopicMessages } from './kafka-sink.js';
import type { CollectMetrics } from './metrics.js';

export interface CollectDeps {
  config: Config;
  keys: KeyRing;
  sink: KafkaSink;
  topics: TopicNames;
  metrics: CollectMetrics;
  log: Logger;
}

/** Seconds a client is asked to wait after a 503. */
export const RETRY_AFTER_SECONDS = 5;

/** Appends and resolves true once Kafka acknowledged; otherwise answers 503 itself and resolves false. */
export async function appendOr503(deps: CollectDeps, reply: FastifyReply, batch: TopicMessages[], route: string): Promise<boolean> {
  try {
    await deps.sink.append(batch);
    return true;
  } catch (err) {
    deps.metrics.kafkaUnavailable.inc({ route });
    deps.log.warn('not acknowledged by Kafka; answered 503', { route, error: (err as Error).message });
    reply.status(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send(errorBody('KAFKA_UNAVAILABLE'));
    return false;
  }
}
