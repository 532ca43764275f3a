// Produces a simulated stream to the topics and writes its truth file, for the demo, tests and benchmarks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import { topicNames } from '../events/topics.js';
import { createSimulation, type SimulateOptions, type Truth } from '../simulator/index.js';
import { createKafka, prepareProjectTopics, withAdmin } from './kafka.js';
import { produceLines } from './produce.js';

export async function simulateToKafka(config: Config, opts: SimulateOptions & { truthFile: string; progress?: boolean; log?: Logger }): Promise<Truth> {
  const log = opts.log ?? createLogger({ component: 'simulate' }, config.log.level);
  const kafka = createKafka(config, log);
  const names = topicNames(config.kafka.topicPrefix);
  await withAdmin(kafka, (admin) => prepareProjectTopics(admin, config));
  const sim = createSimulation(opts);
  await produceLines(kafka, sim.lines(), { topics: names.events, total: sim.totalLines, progress: opts.progress });
  const truth = sim.truth();
  mkdirSync(dirname(opts.truthFile), { recursive: true });
  writeFileSync(opts.truthFile, `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}
