// `collect`: the HTTP front door to Kafka on its own (Meta's webhooks, POST /v1/events); `serve`/`up` also run it
// when POLICYLENS_KAFKA_BROKERS is set.
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { createKeyRing, parseKeySpec } from '../common/api-keys.js';
import { loadConfig } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { startCollect } from '../collect/run-collect.js';
import { positiveInt } from './usage-error.js';

export async function runCollect(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const config = loadConfig();
  if (values.port) config.collect.port = positiveInt('port', values.port);
  const log = createLogger({ component: 'collect' }, config.log.level);
  const keys = createKeyRing(config.apiKeys ? parseKeySpec(config.apiKeys) : []);
  const running = await startCollect(config, keys, log);
  console.log(`policylens collect on ${running.address}`);
  await new Promise<void>((resolve) => {
    closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
      if (err) log.error('stopping after an error', { error: err.message });
      else log.info('stopping', { signal });
      await running.close();
      resolve();
    });
  });
  return 0;
}
