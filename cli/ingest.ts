import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { ingestSummary, runIngest } from '../ingest/run-ingest.js';
import { positiveInt } from './usage-error.js';

export async function runIngestCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'until-idle': { type: 'string' }, 'metrics-port': { type: 'string' }, 'no-metrics': { type: 'boolean' } },
  });
  const untilIdle = values['until-idle'] === undefined ? undefined : positiveInt('until-idle', values['until-idle']);
  const metricsPort = values['no-metrics'] ? null : values['metrics-port'] === undefined ? undefined : positiveInt('metrics-port', values['metrics-port']);
  const stats = await runIngest({ config: loadConfig(), untilIdleSeconds: untilIdle, metricsPort });
  console.log(ingestSummary(stats));
  return 0;
}
