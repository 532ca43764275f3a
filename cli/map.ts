import { parseArgs } from 'node:util';
import { loadConfig } from '../common/config.js';
import { runMapStage } from '../sources/map-stage.js';
import { positiveInt } from './usage-error.js';

export async function runMapCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { 'until-idle': { type: 'string' }, 'from-beginning': { type: 'boolean' } } });
  const untilIdle = values['until-idle'] === undefined ? undefined : positiveInt('until-idle', values['until-idle']);
  const stats = await runMapStage({ config: loadConfig(), untilIdleSeconds: untilIdle, fromBeginning: values['from-beginning'] });
  console.log(`bodies ${stats.bodies}  events ${stats.events}  dead-lettered ${stats.deadLettered}  counted, not mapped ${stats.ignored}`);
  return 0;
}
