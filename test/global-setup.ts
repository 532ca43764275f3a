// Starts the local Kafka broker for the run unless POLICYLENS_KAFKA_BROKERS names one. If it cannot start,
// the run fails: tests that need the broker never skip. The broker is left running for the next run
// (several runs may share it); `npx policylens kafka stop` ends it, and .ci/run does so after the tests.
import { startBroker } from '../devtools/kafka/local-broker.js';

export default async function setup(): Promise<void> {
  if (process.env.POLICYLENS_KAFKA_BROKERS) return;
  const started = await startBroker({ log: (m) => console.error(`[kafka] ${m}`) });
  process.env.POLICYLENS_KAFKA_BROKERS = started.bootstrap;
}
