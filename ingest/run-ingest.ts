// Runs the ingest as a process: warehouse, topics, metrics, consumer, clean shutdown on SIGTERM/SIGINT.
import type { Server } from 'node:http';
import type { Registry } from 'prom-client';
import type { Config } from '../common/config.js';
import { createLogger, type Logger } from '../common/log.js';
import { openReadyWarehouse, type ReadyWarehouse } from '../warehouse/open.js';
import { IngestConsumer } from './consumer.js';
import { waitUntilIdle } from './idle.js';
import { createKafka, prepareProjectTopics } from './kafka.js';
import { createIngestMetrics, serveMetrics, type IngestStats } from './metrics.js';

export interface RunIngestOptions {
  config: Config;
  /** Exit once every partition has been caught up for this many seconds. */
  untilIdleSeconds?: number;
  /** Port for /metrics; null for none. */
  metricsPort?: number | null;
  log?: Logger;
  /** Use this warehouse instead of opening one (`up` shares it with the API). */
  warehouse?: ReadyWarehouse;
  /** Stops the ingest when aborted; otherwise SIGTERM/SIGINT do. */
  stopSignal?: AbortSignal;
  /** The registry /metrics serves; `up` passes one the mapping stage's metrics join too. */
  registry?: Registry;
}

/** One line for people: what the ingest did, and how fast from its first message held to its last commit. */
export function ingestSummary(stats: IngestStats): string {
  const parts = [`consumed ${stats.consumed}`, `written ${stats.written}`, `duplicates ${stats.duplicates}`, `dead-lettered ${stats.deadLettered}`];
  if (stats.rebuilt > 0) parts.push(`flushes rebuilt ${stats.rebuilt}`);
  const seconds = stats.firstHeldAt !== null && stats.lastCommittedAt !== null ? (stats.lastCommittedAt - stats.firstHeldAt) / 1000 : 0;
  if (seconds > 0) parts.push(`in ${seconds.toFixed(1)} s (${Math.round(stats.consumed / seconds).toLocaleString('en-US')} events/s)`);
  return parts.join('  ');
}

export async function runIngest(opts: RunIngestOptions): Promise<IngestStats> {
  const log = opts.log ?? createLogger({ component: 'ingest' }, opts.config.log.level);
  const ready = opts.warehouse ?? (await openReadyWarehouse(opts.config));
  const kafka = createKafka(opts.config, log);
  const metrics = createIngestMetrics(opts.registry, true);
  let server: Server | null = null;
  const admin = kafka.admin();
  const consumer = new IngestConsumer({ config: opts.config, kafka, writer: ready.writer, log, metrics });
  const stopSignal = new AbortController();
  const onSignal = (sig: string) => {
    log.info('stopping', { signal: sig });
    stopSignal.abort();
  };
  if (opts.stopSignal) opts.stopSignal.addEventListener('abort', () => stopSignal.abort(), { once: true });
  else {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
  try {
    await admin.connect();
    const created = (await prepareProjectTopics(admin, opts.config)).filter((t) => t.created).map((t) => t.topic);
    if (created.length) log.info('topics created', { topics: created });
    if (opts.metricsPort !== null) {
      server = await serveMetrics(metrics.registry, opts.metricsPort ?? opts.config.metrics.port, opts.config.metrics.host);
      log.info('metrics', { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/metrics` });
    }
    await consumer.start();
    log.info('ingest running', { brokers: opts.config.kafka.brokers, group: opts.config.kafka.groupId, warehouse: ready.wh.mode });
    // A signal may have come while the consumer was still joining the group: its abort event has fired already.
    const stopped = stopSignal.signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => stopSignal.signal.addEventListener('abort', () => resolve(), { once: true }));
    const idle =
      opts.untilIdleSeconds !== undefined
        ? waitUntilIdle({
            admin,
            groupId: opts.config.kafka.groupId,
            topics: consumer.topicNames,
            idleMs: opts.untilIdleSeconds * 1000,
            held: () => consumer.held(),
            signal: stopSignal.signal,
          }).then(() => log.info('caught up and idle; stopping', { idleSeconds: opts.untilIdleSeconds }))
        : new Promise<void>(() => undefined);
    try {
      await Promise.race([stopped, idle, consumer.failed]);
    } catch (err) {
      // Leave the group and close the connections, or the process would stay up with nothing left to do.
      await consumer.stop({ flush: false }).catch(() => undefined);
      throw err;
    }
    await consumer.stop();
    log.info('ingest stopped', { ...consumer.stats, max_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) });
    return consumer.stats;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    stopSignal.abort();
    await admin.disconnect().catch(() => undefined);
    server?.close();
    if (!opts.warehouse) await ready.wh.close();
  }
}
