import { loadConfig } from '../common/config.js';
import { brokerStatus, ensureJars, startBroker, stopBroker } from '../devtools/kafka/local-broker.js';
import { brokerTopics, describeTopics, ensureBrokerTopics } from '../devtools/kafka/topics.js';
import { UsageError } from './usage-error.js';

const say = (m: string) => console.error(m);

export async function runKafka(argv: string[]): Promise<number> {
  const [action] = argv;
  switch (action) {
    case 'start': {
      // Read first: a malformed topic setting should stop the command before a broker starts.
      const config = loadConfig();
      const s = await startBroker({ log: say });
      console.log(`kafka ${s.version} running on ${s.bootstrap} (pid ${s.pid}); log: ${s.logFile}`);
      // Also when the broker was already up: a start is how one gets the topics, whoever started it.
      for (const line of describeTopics(await ensureBrokerTopics(config, s.bootstrap), config.kafka.partitions)) console.log(line);
      return 0;
    }
    case 'stop': {
      const r = await stopBroker({ log: say });
      console.log(r.stopped ? `kafka stopped (pid ${r.pid}${r.killed ? ', killed' : ''})` : 'kafka was not running');
      return 0;
    }
    case 'status': {
      const config = loadConfig();
      const s = await brokerStatus();
      console.log(
        s.running
          ? `kafka ${s.version} ${s.answering ? 'answering' : 'NOT answering'} on ${s.bootstrap} (pid ${s.pid}); log: ${s.logFile}`
          : 'kafka is not running',
      );
      if (s.answering) for (const line of describeTopics(await brokerTopics(config, s.bootstrap), config.kafka.partitions)) console.log(line);
      return s.running && s.answering ? 0 : 1;
    }
    case 'fetch': {
      console.log(`kafka jars in ${await ensureJars({ log: say })}`);
      return 0;
    }
    default:
      throw new UsageError('kafka needs an action: start, stop, status or fetch');
  }
}
