// Prometheus metrics of the ingest process, one registry so tests can make their own; and the process's own counts.
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../common/process-metrics.js';

export interface IngestMetrics {
  registry: Registry;
  consumed: Counter<'topic'>;
  written: Counter<'topic'>;
  duplicates: Counter<'topic'>;
  dlq: Counter<'reason'>;
  batchRows: Histogram<'topic'>;
  insertSeconds: Histogram;
  lag: Gauge<'topic' | 'partition'>;
  retries: Counter<'operation'>;
  rebuilt: Counter;
  miskeyed: Counter<'topic'>;
}

/** What one ingest process did, for its summary line and its last log line. */
export interface IngestStats {
  consumed: number;
  written: number;
  duplicates: number;
  deadLettered: number;
  flushes: number;
  /** Announced flushes found unfinished at a rebalance and rebuilt. */
  rebuilt: number;
  /** When the first message was held and the last flush committed (epoch ms), for the pipeline's own rate. */
  firstHeldAt: number | null;
  lastCommittedAt: number | null;
}

export function createIngestMetrics(registry = new Registry(), withDefaults = false): IngestMetrics {
  if (withDefaults) collectProcessMetrics(registry, 'policylens_');
  const r = [registry];
  return {
    registry,
    consumed: new Counter({ name: 'policylens_ingest_events_consumed_total', help: 'Messages consumed, by topic', labelNames: ['topic'], registers: r }),
    written: new Counter({
      name: 'policylens_ingest_events_written_total',
      help: 'Events written to the warehouse, by topic',
      labelNames: ['topic'],
      registers: r,
    }),
    duplicates: new Counter({
      name: 'policylens_ingest_duplicates_total',
      help: 'Events dropped as already seen, by topic',
      labelNames: ['topic'],
      registers: r,
    }),
    dlq: new Counter({
      name: 'policylens_ingest_dlq_messages_total',
      help: 'Messages sent to the dead-letter topic, by reason',
      labelNames: ['reason'],
      registers: r,
    }),
    batchRows: new Histogram({
      name: 'policylens_ingest_batch_rows',
      help: 'Rows per insert, by topic (one insert per topic and flush)',
      labelNames: ['topic'],
      buckets: [10, 100, 1_000, 10_000, 25_000, 50_000, 100_000, 200_000, 400_000],
      registers: r,
    }),
    insertSeconds: new Histogram({
      name: 'policylens_ingest_insert_seconds',
      help: 'Time to write one flush to the warehouse',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: r,
    }),
    lag: new Gauge({
      name: 'policylens_ingest_consumer_lag',
      help: 'Messages behind the high watermark, by partition',
      labelNames: ['topic', 'partition'],
      registers: r,
    }),
    retries: new Counter({
      name: 'policylens_ingest_retries_total',
      help: 'Retries of retriable failures, by operation',
      labelNames: ['operation'],
      registers: r,
    }),
    rebuilt: new Counter({
      name: 'policylens_ingest_flushes_rebuilt_total',
      help: 'Announced flushes found unfinished after a crash or rebalance and rebuilt',
      registers: r,
    }),
    miskeyed: new Counter({
      name: 'policylens_ingest_events_not_keyed_by_user_total',
      help: 'Valid events whose Kafka key is not their user_id, by topic (several ingest processes need that key)',
      labelNames: ['topic'],
      registers: r,
    }),
  };
}

/** Serves GET /metrics; port 0 picks a free one. */
export async function serveMetrics(registry: Registry, port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, () => resolve()));
  return server;
}
