// Starts the local Kafka broker for the run (unless POLICYLENS_KAFKA_BROKERS names one) and stops it after.
// If it cannot start, the run fails: tests that need the broker never skip.
import { brokerStatus, startBroker, stopBroker } from '../ingest/local-broker.js';

export default async function setup(): Promise<() => Promise<void>> {
  if (process.env.POLICYLENS_KAFKA_BROKERS) return async () => undefined;
  const before = await brokerStatus();
  const started = await startBroker({ log: (m) => console.error(`[kafka] ${m}`) });
  process.env.POLICYLENS_KAFKA_BROKERS = started.bootstrap;
  return async () => {
    if (!before.running) await stopBroker();
  };
}
