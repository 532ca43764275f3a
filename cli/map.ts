import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { loadConfig } from '../common/config.js';
import { serveMetrics } from '../ingest/metrics.js';
import { runMapStage } from '../sources/map-stage.js';
import { positiveInt } from './usage-error.js';

export async function runMapCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'until-idle': { type: 'string' }, 'from-beginning': { type: 'boolean' }, 'metrics-port': { type: 'string' } },
  });
  const untilIdle = values['until-idle'] === undefined ? undefined : positiveInt('until-idle', values['until-idle']);
  const config = loadConfig();
  const registry = new Registry();
  // Off unless asked for: the ingest's /metrics has the default port, and the two often run on one machine.
  const server =
    values['metrics-port'] === undefined ? null : await serveMetrics(registry, positiveInt('metrics-port', values['metrics-port']), config.metrics.host);
  const stats = await runMapStage({ config, untilIdleSeconds: untilIdle, fromBeginning: values['from-beginning'], registry }).finally(() => server?.close());
  console.log(`bodies ${stats.bodies}  events ${stats.events}  dead-lettered ${stats.deadLettered}  counted, not mapped ${stats.ignored}`);
  return 0;
}
