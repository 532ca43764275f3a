// `serve` runs the API (and the dashboards once built); `up` runs the ingest beside it in one process,
// which is how embedded mode runs both, since one process holds the data directory.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { runIngest } from '../ingest/run-ingest.js';
import { createKeyRing, parseKeySpec, type KeyRing } from '../query/api-keys.js';
import { buildApp } from '../query/app.js';
import { openReadyWarehouse } from '../warehouse/open.js';
import { positiveInt } from './usage-error.js';

/** Keys from POLICYLENS_API_KEYS, or one admin key made up for this run and printed, so a first start works. */
export function keysFromEnv(env: NodeJS.ProcessEnv = process.env): { keys: KeyRing; generated: string | null } {
  if (env.POLICYLENS_API_KEYS) return { keys: createKeyRing(parseKeySpec(env.POLICYLENS_API_KEYS)), generated: null };
  const key = randomBytes(18).toString('base64url');
  return { keys: createKeyRing([{ key, role: 'admin' }]), generated: key };
}

export async function startServer(config: Config, opts: { withIngest: boolean }): Promise<number> {
  const log = createLogger({ component: opts.withIngest ? 'up' : 'serve' });
  const ready = await openReadyWarehouse(config);
  const { keys, generated } = keysFromEnv();
  const app = await buildApp({ config, wh: ready.wh, keys, log });
  const ingestStop = new AbortController();
  const ingest = opts.withIngest ? runIngest({ config, warehouse: ready, log: log.child({ component: 'ingest' }), stopSignal: ingestStop.signal }) : null;
  const address = await app.listen({ port: config.port, host: config.host });
  console.log(`policylens API on ${address}  (docs: ${address}/docs)`);
  if (generated) console.log(`POLICYLENS_API_KEYS is not set; an admin key for this run only: ${generated}`);
  await new Promise<void>((resolve) => {
    closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
      if (err) log.error('stopping after an error', { error: err.message });
      else log.info('stopping', { signal });
      ingestStop.abort();
      await ingest?.catch((e: Error) => log.error('ingest failed', { error: e.message }));
      await app.close();
      await ready.wh.close();
      resolve();
    });
  });
  return 0;
}

export async function runServe(argv: string[], withIngest: boolean): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const config = loadConfig();
  if (values.port) config.port = positiveInt('port', values.port);
  return startServer(config, { withIngest });
}
