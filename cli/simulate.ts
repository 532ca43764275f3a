import { parseArgs } from 'node:util';
import { simulateToFile } from '../simulator/index.js';
import { positiveInt, ratio, UsageError } from './usage-error.js';

export async function runSimulate(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      events: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'bad-ratio': { type: 'string' },
      'dup-ratio': { type: 'string' },
    },
  });
  if (!values.out) throw new UsageError('--out FILE.ndjson is required');
  const truth = await simulateToFile({
    events: positiveInt('events', values.events, 100_000),
    seed: positiveInt('seed', values.seed, 1),
    badRatio: ratio('bad-ratio', values['bad-ratio']),
    dupRatio: ratio('dup-ratio', values['dup-ratio']),
    out: values.out,
    progress: true,
  });
  console.log(`wrote ${values.out} and its truth file (${JSON.stringify(truth.counts?.lines ?? null)} lines)`);
  return 0;
}
