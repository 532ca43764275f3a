import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { simulateToKafka } from '../ingest/simulate-to-kafka.js';
import { simulateToFile, truthPathFor } from '../simulator/index.js';
import { positiveInt, ratio, UsageError } from './usage-error.js';

export async function runSimulate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      kafka: { type: 'boolean' },
      truth: { type: 'string' },
      'bad-ratio': { type: 'string' },
      'dup-ratio': { type: 'string' },
    },
  });
  if (!values.out && !values.kafka) throw new UsageError('say where the events go: --out FILE.ndjson or --kafka');
  if (values.out && values.kafka) throw new UsageError('--out and --kafka cannot be used together');
  const options = {
    events: positiveInt('events', values.events, 100_000),
    seed: positiveInt('seed', values.seed, 1),
    badRatio: ratio('bad-ratio', values['bad-ratio']),
    dupRatio: ratio('dup-ratio', values['dup-ratio']),
  };
  if (values.out) {
    const truth = await simulateToFile({ ...options, out: values.out, progress: true });
    console.log(`wrote ${truth.counts.lines.toLocaleString('en-US')} lines to ${values.out}; truth in ${truthPathFor(values.out)}`);
    return 0;
  }
  const config = loadConfig();
  const truthFile = values.truth ?? join(config.dataDir, '..', 'kafka-truth.json');
  const truth = await simulateToKafka(config, { ...options, truthFile, progress: true });
  console.log(`produced ${truth.counts.lines.toLocaleString('en-US')} messages to ${config.kafka.brokers.join(',')}; truth in ${truthFile}`);
  return 0;
}
