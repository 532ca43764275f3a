// Runs collect: a Kafka client and sink, the project's topics made ready when the broker answers, and the app
// listening. Kafka may be away at start: collect listens anyway and answers 503 until it is back.
import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../common/api-keys.js';
import type { Config } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import { createKafka, prepareProjectTopics, withAdmin } from '../ingest/kafka.js';
import { buildCollectApp } from './app.js';
import { createKafkaSink } from './kafka-sink.js';

export interface RunningCollect {
  app: FastifyInstance;
  address: string;
  close(): Promise<void>;
}

const TOPICS_TIMEOUT_MS = 15_000;

export async function startCollect(
  config: Config,
  keys: KeyRing,
  log: Logger = createLogger({ component: 'collect' }, config.log.level),
): Promise<RunningCollect> {
  const kafka = createKafka(config, log, `${config.kafka.clientId}-collect`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    withAdmin(kafka, (admin) => prepareProjectTopics(admin, config)).then(
      (states) => {
        const created = states.filter((t) => t.created).map((t) => t.topic);
        if (created.length) log.info('topics created', { topics: created });
      },
      (err: Error) => log.warn('topics not checked: Kafka does not answer; requests get 503 until it does', { error: err.message }),
    ),
    new Promise((resolve) => (timer = setTimeout(resolve, TOPICS_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  const sink = createKafkaSink(kafka, log);
  const app = await buildCollectApp({ config, keys, sink, log });
  const address = await app.listen({ port: config.collect.port, host: config.collect.host });
  if (!config.collect.metaAppSecret) log.warn('POLICYLENS_META_APP_SECRET is not set: the Meta webhook routes are off');
  if (keys.size === 0) log.warn('POLICYLENS_API_KEYS is not set: POST /v1/events refuses every request');
  log.info('collect listening', { address, brokers: config.kafka.brokers, topicPrefix: config.kafka.topicPrefix });
  return {
    app,
    address,
    async close() {
      await app.close();
      await sink.close();
    },
  };
}
