import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { simulateToKafka } from '../ingest/simulate-to-kafka.js';
import { simulateToFile, truthPathFor } from '../simulator/index.js';
import { sendLogPathFor, simulateMetaToFile } from '../sources/meta/simulate-to-file.js';
import { positiveInt, ratio, UsageError } from './usage-error.js';

const FORMATS = ['events', 'meta-webhooks'] as const;

/** The app secret that signs simulated webhooks: the flag, else the configured one when the configuration has it. */
function appSecret(flag: string | undefined): string {
  if (flag) return flag;
  const configured = (loadConfig() as unknown as { meta?: { appSecret?: string | null } }).meta?.appSecret;
  if (configured) return configured;
  throw new UsageError('--format meta-webhooks signs its POSTs: give --app-secret or set POLICYLENS_META_APP_SECRET');
}

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
      format: { type: 'string' },
      'app-secret': { type: 'string' },
    },
  });
  const format = values.format ?? 'events';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
  if (!values.out && !values.kafka) throw new UsageError('say where the events go: --out FILE.ndjson or --kafka');
  if (values.out && values.kafka) throw new UsageError('--out and --kafka cannot be used together');
  const options = {
    events: positiveInt('events', values.events, 100_000),
    seed: positiveInt('seed', values.seed, 1),
    badRatio: ratio('bad-ratio', values['bad-ratio']),
    dupRatio: ratio('dup-ratio', values['dup-ratio']),
  };
  if (format === 'meta-webhooks') {
    if (!values.out) throw new UsageError('--format meta-webhooks writes a file: give --out FILE.ndjson');
    if (options.badRatio > 0) throw new UsageError('--format meta-webhooks has no bad lines: leave out --bad-ratio');
    const r = await simulateMetaToFile({ ...options, out: values.out, appSecret: appSecret(values['app-secret']) });
    console.log(
      `wrote ${r.posts.toLocaleString('en-US')} webhook POSTs to ${values.out}, ${r.sendLogLines.toLocaleString('en-US')} send-log events to ${sendLogPathFor(values.out)}; truth in ${truthPathFor(values.out)}`,
    );
    return 0;
  }
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
