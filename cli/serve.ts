// `serve` runs the API (and the dashboards once built); `up` runs the ingest and the mapping stage beside it in
// one process, which is how embedded mode runs both, since one process holds the data directory.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import closeWithGrace from 'close-with-grace';
import { loadConfig, type Config } from '../common/config.js';
import { createLogger } from '../common/log.js';
import { runIngest } from '../ingest/run-ingest.js';
import { keepMapping } from '../sources/map-stage.js';
import { startCollect } from '../collect/run-collect.js';
import { createKeyRing, parseKeySpec, type KeyRing } from '../common/api-keys.js';
import { buildApp } from '../query/api/app.js';
import { openReadyWarehouse, type ReadyWarehouse } from '../warehouse/open.js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../common/log.js';
import { positiveInt } from './usage-error.js';
import { Registry } from 'prom-client';

const newKey = () => randomBytes(18).toString('base64url');

/**
 * Keys from POLICYLENS_API_KEYS (config.apiKeys), or one admin key made up for this run and printed, so a first
 * start works. An internal admin key, never shown, lets the process build its own dashboards through the API.
 */
export function serverKeys(spec: string | null): { keys: KeyRing; generated: string | null; internal: string } {
  const internal = newKey();
  const configured = spec ? parseKeySpec(spec) : null;
  const generated = configured ? null : newKey();
  const entries = [...(configured ?? [{ key: generated!, role: 'admin' as const }]), { key: internal, role: 'admin' as const }];
  return { keys: createKeyRing(entries), generated, internal };
}

/** Builds the dashboards now and then every `everySeconds`, from this process's own API. */
function scheduleDashboards(app: FastifyInstance, key: string, config: Config, log: Logger): () => void {
  let running: Promise<void> | null = null;
  const build = () => {
    if (running) return; // a slow build is not stacked on by the next tick
    running = (async () => {
      const [{ buildSite }, { injectSource }, { loadDefaultRegimes }] = await Promise.all([
        import('../dashboards/build.js'),
        import('../dashboards/source.js'),
        import('../warehouse/regimes.js'),
      ]);
      const m = await buildSite({ source: injectSource(app, key), out: config.dashboards.dir, fallbackRegimes: loadDefaultRegimes });
      log.info('dashboards built', { pages: m.pages.length, ms: m.timings_ms.total });
    })()
      .catch((err: Error) => log.error('dashboard build failed', { error: err.message }))
      .finally(() => (running = null));
  };
  build();
  const timer = config.dashboards.everySeconds > 0 ? setInterval(build, config.dashboards.everySeconds * 1000) : null;
  return () => {
    if (timer) clearInterval(timer);
  };
}

export async function startServer(config: Config, opts: { withIngest: boolean; dashboards?: boolean; ready?: ReadyWarehouse }): Promise<number> {
  const log = createLogger({ component: opts.withIngest ? 'up' : 'serve' }, config.log.level);
  const ready = opts.ready ?? (await openReadyWarehouse(config));
  const { keys, generated, internal } = serverKeys(config.apiKeys);
  const app = await buildApp({ config, wh: ready.wh, keys, log });
  const ingestStop = new AbortController();
  // One registry for the ingest's /metrics and the mapping stage's counters, which run in this process beside it.
  const registry = new Registry();
  const ingest = opts.withIngest
    ? runIngest({ config, warehouse: ready, log: log.child({ component: 'ingest' }), stopSignal: ingestStop.signal, registry })
    : null;
  // Meta's webhooks on the raw topic become events beside the ingest that takes them (docs/sources.md).
  const mapping = opts.withIngest ? keepMapping({ config, log: log.child({ component: 'map' }), stopSignal: ingestStop.signal, registry }) : null;
  const address = await app.listen({ port: config.port, host: config.host });
  const stopDashboards = opts.dashboards === false ? () => undefined : scheduleDashboards(app, internal, config, log);
  console.log(`policylens API on ${address}  (docs: ${address}/docs)`);
  if (!config.sessions.secret && opts.dashboards !== false)
    log.info('POLICYLENS_SESSION_SECRET is not set: dashboards sessions are signed with a key of this process and end when it stops');
  if (generated) {
    console.log(`POLICYLENS_API_KEYS is not set; an admin key for this run only: ${generated}`);
    if (opts.dashboards !== false) console.log(`dashboards: ${address}/dashboards/?key=${generated}`);
  } else if (opts.dashboards !== false) console.log(`dashboards: ${address}/dashboards/?key=<an analyst or admin key>`);
  // With a broker configured, collect (webhooks, POST /v1/events) runs beside the API, with the same keys.
  const collect = config.kafka.brokersConfigured ? await startCollect(config, keys, log.child({ component: 'collect' })) : null;
  if (collect) console.log(`policylens collect on ${collect.address}  (docs/collect.md)`);
  await new Promise<void>((resolve) => {
    closeWithGrace({ delay: 20_000 }, async ({ signal, err }) => {
      if (err) log.error('stopping after an error', { error: err.message });
      else log.info('stopping', { signal });
      stopDashboards();
      await collect?.close();
      ingestStop.abort();
      await ingest?.catch((e: Error) => log.error('ingest failed', { error: e.message }));
      await mapping?.catch(() => undefined);
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
