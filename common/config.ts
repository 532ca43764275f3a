// One typed configuration object; every knob has a default and an environment override.
import { resolve } from 'node:path';

export interface Config {
  dataDir: string;
  clickhouse: { url: string | null; user: string; password: string; database: string };
  kafka: { brokers: string[]; partitions: number; clientId: string; groupId: string; topicPrefix: string };
  ingest: { batchMaxRows: number; batchMaxMs: number; maxHeldRows: number; attributionWindowHours: number };
  port: number;
  /** Address the API listens on; 127.0.0.1 unless deployed behind something (0.0.0.0 in containers). */
  host: string;
  metrics: { port: number; host: string };
  /** Seconds between dashboard rebuilds in `serve`/`up`; 0 builds once at start only. */
  dashboardsEverySeconds: number;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    dataDir: resolve(env.POLICYLENS_DATA_DIR || '.policylens/data'),
    clickhouse: {
      url: env.POLICYLENS_CLICKHOUSE_URL || null,
      user: env.POLICYLENS_CLICKHOUSE_USER || 'default',
      password: env.POLICYLENS_CLICKHOUSE_PASSWORD || '',
      database: env.POLICYLENS_CLICKHOUSE_DATABASE || 'policylens',
    },
    kafka: {
      brokers: (env.POLICYLENS_KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
      partitions: intFrom(env, 'POLICYLENS_KAFKA_PARTITIONS', 6),
      clientId: env.POLICYLENS_KAFKA_CLIENT_ID || 'policylens',
      groupId: env.POLICYLENS_KAFKA_GROUP || 'policylens-ingest',
      topicPrefix: env.POLICYLENS_TOPIC_PREFIX || 'policylens',
    },
    ingest: {
      batchMaxRows: intFrom(env, 'POLICYLENS_BATCH_MAX_ROWS', 50_000),
      batchMaxMs: intFrom(env, 'POLICYLENS_BATCH_MAX_MS', 1_000),
      maxHeldRows: intFrom(env, 'POLICYLENS_MAX_HELD_ROWS', 100_000),
      attributionWindowHours: intFrom(env, 'POLICYLENS_ATTRIBUTION_WINDOW_HOURS', 72),
    },
    port: intFrom(env, 'POLICYLENS_PORT', 8787),
    host: env.POLICYLENS_HOST || '127.0.0.1',
    dashboardsEverySeconds: env.POLICYLENS_DASHBOARDS_EVERY === '0' ? 0 : intFrom(env, 'POLICYLENS_DASHBOARDS_EVERY', 300),
    metrics: { port: intFrom(env, 'POLICYLENS_METRICS_PORT', 9464), host: env.POLICYLENS_METRICS_HOST || '127.0.0.1' },
  };
}
