// The project's topics on a broker, so that any Kafka client can produce to them as soon as `kafka start` returns:
// the broker never creates a topic on first use (autoCreateTopics is off), and a topic made by a client would get
// the broker's partition count instead of POLICYLENS_KAFKA_PARTITIONS. Which topics, and how they are made, is the
// ingest's own rule (ingest/kafka.ts), imported rather than repeated.
import type { Admin } from 'kafkajs';
import type { Config } from '../../common/config.js';
import { createLogger, type Logger } from '../../common/log.js';
import { createKafka, prepareProjectTopics, projectTopicStates, type TopicState, withAdmin } from '../../ingest/kafka.js';

export type { TopicState } from '../../ingest/kafka.js';

/**
 * kafkajs logs as errors the answers a broker gives for a moment after creating a topic ("not the leader"), which
 * the creation waits out; the command prints its outcome itself, and a real failure is thrown, so its chatter is
 * shown at debug level only.
 */
function quiet(log: Logger): Logger {
  return { ...log, warn: log.debug, error: log.debug, child: (fields) => quiet(log.child(fields)) };
}

/** An admin client of the broker at bootstrap, for one piece of work. */
function onBroker<T>(config: Config, bootstrap: string, use: (admin: Admin) => Promise<T>): Promise<T> {
  const log = quiet(createLogger({ component: 'kafka-topics' }, config.log.level));
  return withAdmin(createKafka({ ...config, kafka: { ...config.kafka, brokers: [bootstrap] } }, log), use);
}

/** Creates the missing project topics on the broker at bootstrap; existing ones are reported as they are. */
export const ensureBrokerTopics = (config: Config, bootstrap: string): Promise<TopicState[]> =>
  onBroker(config, bootstrap, (admin) => prepareProjectTopics(admin, config));

/** The project topics on the broker at bootstrap, creating none. */
export const brokerTopics = (config: Config, bootstrap: string): Promise<TopicState[]> =>
  onBroker(config, bootstrap, (admin) => projectTopicStates(admin, config));

/** One line per topic for people: created, found or missing, its partitions, and a count other than the configured one. */
export function describeTopics(states: TopicState[], configuredPartitions: number): string[] {
  return states.map(({ topic, partitions, created }) => {
    if (partitions === null) return `topic ${topic}: missing (\`kafka start\` or the first ingest creates it)`;
    const line = `topic ${topic}: ${created ? 'created' : 'found'}, ${partitions} partition${partitions === 1 ? '' : 's'}`;
    return partitions === configuredPartitions
      ? line
      : `${line}, not the configured ${configuredPartitions} (POLICYLENS_KAFKA_PARTITIONS applies only when a topic is created)`;
  });
}
