// One typed configuration object, and the only reader of the environment: every knob has a default and an
// environment override, checked here when the configuration loads, so a bad value stops a command at start
// with the variable's name instead of failing later or being ignored.
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_ATTRIBUTION_WINDOW_HOURS, MAX_ATTRIBUTION_WINDOW_HOURS } from '../events/attribution.js';
import { LOG_LEVELS, type Level } from './log.js';

export interface Config {
  dataDir: string;
  clickhouse: {
    url: string | null;
    user: string;
    password: string;
    database: string;
    /**
     * The cluster (a remote_servers name) the warehouse is sharded over, or null for one server. Tables are then
     * shard-local, with a Distributed table of the single-server name over them (docs/operations.md).
     */
    cluster: string | null;
    /**
     * Every server of the cluster (each replica of each shard) as an HTTP URL: migrations and the regime table are
     * applied on each. Empty: found from system.clusters, each host at the port of POLICYLENS_CLICKHOUSE_URL.
     */
    nodes: string[];
    /** Shard-local tables as ReplicatedMergeTree under Keeper, paths from the {shard} and {replica} macros. */
    replicated: boolean;
    /** Server mode: HTTP connections to the server per process, so at most this many queries run at once. */
    maxConnections: number;
  };
  kafka: {
    brokers: string[];
    /** Whether POLICYLENS_KAFKA_BROKERS was set (the demo starts the local broker only when it was not). */
    brokersConfigured: boolean;
    partitions: number;
    clientId: string;
    groupId: string;
    topicPrefix: string;
  };
  ingest: { batchMaxRows: number; batchMaxMs: number; maxHeldRows: number };
  /** Hours after a send within which a spam-risk event is attributed to it (docs/metrics.md). */
  attributionWindowHours: number;
  port: number;
  /** Address the API listens on; 127.0.0.1 unless deployed behind something (0.0.0.0 in containers). */
  host: string;
  /** POLICYLENS_API_KEYS as given (`key:role,…` or a file of such lines); the server parses it when it starts. */
  apiKeys: string | null;
  /**
   * Proxies whose X-Forwarded-For the API believes (addresses or CIDR ranges): behind them the client address, which
   * rate-limits requests without a valid key, is the forwarded one. Empty: the connection's own address.
   */
  trustedProxies: string[];
  /** Requests per minute per valid API key, or per client address for requests without one. */
  rateLimitPerMinute: number;
  metrics: { port: number; host: string };
  sessions: {
    /**
     * Key of the signed dashboards session cookies; null: a random one per process, so sessions end when it
     * restarts (and several processes behind one address need it set to the same value).
     */
    secret: string | null;
    /** How long a dashboards session lasts after sign-in. */
    hours: number;
  };
  /** Answers of the API kept for reuse, keyed by the request and the warehouse version (docs/api.md, "Caching"). */
  answerCache: {
    /** At most this many answers; 0 turns the cache off. */
    entries: number;
    /** At most this many bytes of answers (JSON text). */
    maxBytes: number;
  };
  collect: {
    /** Where `collect` listens (docs/collect.md); beside the API, on a port of its own. */
    port: number;
    host: string;
    /** Meta's webhooks: the token of the verification handshake and the app secret that signs each POST; unset, the webhook routes are off. */
    metaVerifyToken: string | null;
    metaAppSecret: string | null;
    /** Largest webhook body accepted (Meta's batches are up to 3 MB). */
    webhookMaxBytes: number;
    /** POST /v1/events: most events, and most bytes after gzip is undone, in one request. */
    maxEvents: number;
    maxBytes: number;
    /** Requests per minute per API key (per address without a valid key) on POST /v1/events. */
    rateLimitPerMinute: number;
  };
  dashboards: {
    /** Where dashboards are built and served from. */
    dir: string;
    /** Seconds between dashboard rebuilds in `serve`/`up`; 0 builds once at start only. */
    everySeconds: number;
    /** The key `dashboards build --api` sends when --key is not given. */
    apiKey: string | null;
  };
  exports: {
    /** As given: an unset or too short secret is not a load error; only exports of identifiers are refused. */
    secret: string | null;
    /** Where the embedded engine writes an export while it streams. */
    tmpDir: string;
    /** daily_metrics cells built from fewer sends are suppressed. */
    minCell: number;
    /** Exports running at once per API process; one more is refused (503 EXPORTS_BUSY) so queries keep their share. */
    maxRunning: number;
  };
  log: { level: Level };
}

type Env = NodeJS.ProcessEnv;

const fail = (name: string, expected: string, raw: string): never => {
  throw new Error(`${name} must be ${expected}, got ${JSON.stringify(raw)}`);
};

function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fail(name, 'a positive integer', raw);
}

function boundedInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= min && n <= max ? n : fail(name, `a whole number from ${min} to ${max}`, raw);
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return (allowed as readonly string[]).includes(raw) ? (raw as T) : fail(name, `one of ${allowed.join(', ')}`, raw);
}

/** Comma-separated addresses or CIDR ranges (`10.0.0.0/8`, `::1`); each one checked. */
function addressList(env: Env, name: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw === '') return [];
  const entries = raw.split(',').map((e) => e.trim());
  const valid = (e: string) => {
    const [address, bits, ...rest] = e.split('/');
    const family = isIP(address);
    if (family === 0 || rest.length > 0) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n <= (family === 4 ? 32 : 128);
  };
  return entries.every(valid) ? entries : fail(name, 'comma-separated IP addresses or CIDR ranges', raw);
}

/** The cluster settings, which only make sense with a server and with each other. */
function clusterSettings(env: Env): Pick<Config['clickhouse'], 'cluster' | 'nodes' | 'replicated'> {
  const cluster = env.POLICYLENS_CLICKHOUSE_CLUSTER || null;
  const rawNodes = env.POLICYLENS_CLICKHOUSE_NODES || '';
  const replicated = oneOf(env, 'POLICYLENS_CLICKHOUSE_REPLICATED', '0', ['0', '1'] as const) === '1';
  if (cluster !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(cluster)) fail('POLICYLENS_CLICKHOUSE_CLUSTER', 'a plain identifier', cluster);
  const nodes = rawNodes === '' ? [] : rawNodes.split(',').map((n) => n.trim());
  for (const node of nodes) {
    if (!/^https?:\/\/[^\s/]+\/?$/.test(node)) fail('POLICYLENS_CLICKHOUSE_NODES', 'comma-separated http(s)://host:port URLs', rawNodes);
  }
  const needsCluster = (name: string, raw: string) => {
    if (cluster === null) throw new Error(`${name} applies only to a cluster: set POLICYLENS_CLICKHOUSE_CLUSTER too (got ${JSON.stringify(raw)})`);
  };
  if (nodes.length > 0) needsCluster('POLICYLENS_CLICKHOUSE_NODES', rawNodes);
  if (replicated) needsCluster('POLICYLENS_CLICKHOUSE_REPLICATED', '1');
  if (cluster !== null && !env.POLICYLENS_CLICKHOUSE_URL) {
    throw new Error('POLICYLENS_CLICKHOUSE_CLUSTER needs POLICYLENS_CLICKHOUSE_URL: a cluster is made of ClickHouse servers, not the embedded engine');
  }
  return { cluster, nodes: nodes.map((n) => n.replace(/\/$/, '')), replicated };
}

function sessionSecret(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  return raw.length >= MIN_SESSION_SECRET_CHARS ? raw : fail(name, `at least ${MIN_SESSION_SECRET_CHARS} characters`, `${raw.slice(0, 4)}…`);
}

const MAX_PORT = 65_535;
const MAX_RATE_LIMIT = 100_000_000;
/** A session secret shorter than this could be guessed from the cookies it signs. */
export const MIN_SESSION_SECRET_CHARS = 32;
const DEFAULT_SESSION_HOURS = 12;
const MAX_SESSION_HOURS = 24 * 30;
/** Node's timers hold at most 2^31-1 ms; a longer interval would fire at once, over and over. */
const MAX_DASHBOARDS_EVERY_SECONDS = 2_147_483;
/** The small-cell threshold ONS uses (docs/exports.md). */
const DEFAULT_MIN_CELL = 10;
const MAX_MIN_CELL = 1_000_000;
const DEFAULT_MAX_CONNECTIONS = 16;
const DEFAULT_MAX_EXPORTS = 2;
const DEFAULT_CACHE_ENTRIES = 1_000;
const DEFAULT_CACHE_MB = 64;
const MIB = 1024 * 1024;
/** A webhook is one Kafka message, which the raw topic caps at 10 MiB (ingest/kafka.ts); a request body is held in memory. */
const MAX_COLLECT_BYTES = 10 * MIB - 64 * 1024;

/**
 * POLICYLENS_DEBUG: print the stack of a failed command. Not part of Config: the command's error handler needs it
 * also when loading the configuration is what failed.
 */
export const debugFromEnv = (env: Env = process.env): boolean => Boolean(env.POLICYLENS_DEBUG);

export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(env.POLICYLENS_DATA_DIR || '.policylens/data');
  const maxConnections = boundedInt(env, 'POLICYLENS_CLICKHOUSE_CONNECTIONS', DEFAULT_MAX_CONNECTIONS, 2, 1_000);
  // Each running export holds a connection to the end: the queries' share is what the exports leave.
  const maxExports = boundedInt(env, 'POLICYLENS_EXPORTS_MAX', DEFAULT_MAX_EXPORTS, 1, maxConnections - 1);
  return {
    dataDir,
    clickhouse: {
      url: env.POLICYLENS_CLICKHOUSE_URL || null,
      user: env.POLICYLENS_CLICKHOUSE_USER || 'default',
      password: env.POLICYLENS_CLICKHOUSE_PASSWORD || '',
      database: env.POLICYLENS_CLICKHOUSE_DATABASE || 'policylens',
      ...clusterSettings(env),
      maxConnections,
    },
    kafka: {
      brokers: (env.POLICYLENS_KAFKA_BROKERS || '127.0.0.1:9092')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
      brokersConfigured: Boolean(env.POLICYLENS_KAFKA_BROKERS),
      partitions: positiveInt(env, 'POLICYLENS_KAFKA_PARTITIONS', 6),
      clientId: env.POLICYLENS_KAFKA_CLIENT_ID || 'policylens',
      groupId: env.POLICYLENS_KAFKA_GROUP || 'policylens-ingest',
      topicPrefix: env.POLICYLENS_TOPIC_PREFIX || 'policylens',
    },
    ingest: {
      batchMaxRows: positiveInt(env, 'POLICYLENS_BATCH_MAX_ROWS', 50_000),
      batchMaxMs: positiveInt(env, 'POLICYLENS_BATCH_MAX_MS', 1_000),
      maxHeldRows: positiveInt(env, 'POLICYLENS_MAX_HELD_ROWS', 100_000),
    },
    attributionWindowHours: boundedInt(env, 'POLICYLENS_ATTRIBUTION_WINDOW_HOURS', DEFAULT_ATTRIBUTION_WINDOW_HOURS, 1, MAX_ATTRIBUTION_WINDOW_HOURS),
    port: boundedInt(env, 'POLICYLENS_PORT', 8787, 1, MAX_PORT),
    host: env.POLICYLENS_HOST || '127.0.0.1',
    apiKeys: env.POLICYLENS_API_KEYS || null,
    trustedProxies: addressList(env, 'POLICYLENS_TRUSTED_PROXIES'),
    rateLimitPerMinute: boundedInt(env, 'POLICYLENS_RATE_LIMIT', 600, 1, MAX_RATE_LIMIT),
    metrics: { port: boundedInt(env, 'POLICYLENS_METRICS_PORT', 9464, 1, MAX_PORT), host: env.POLICYLENS_METRICS_HOST || '127.0.0.1' },
    sessions: {
      secret: sessionSecret(env, 'POLICYLENS_SESSION_SECRET'),
      hours: boundedInt(env, 'POLICYLENS_SESSION_HOURS', DEFAULT_SESSION_HOURS, 1, MAX_SESSION_HOURS),
    },
    answerCache: {
      entries: boundedInt(env, 'POLICYLENS_ANSWER_CACHE_ENTRIES', DEFAULT_CACHE_ENTRIES, 0, 1_000_000),
      maxBytes: boundedInt(env, 'POLICYLENS_ANSWER_CACHE_MB', DEFAULT_CACHE_MB, 1, 65_536) * MIB,
    },
    collect: {
      port: boundedInt(env, 'POLICYLENS_COLLECT_PORT', 8788, 1, MAX_PORT),
      host: env.POLICYLENS_COLLECT_HOST || '127.0.0.1',
      metaVerifyToken: env.POLICYLENS_META_VERIFY_TOKEN || null,
      metaAppSecret: env.POLICYLENS_META_APP_SECRET || null,
      webhookMaxBytes: boundedInt(env, 'POLICYLENS_COLLECT_WEBHOOK_MAX_BYTES', 8 * MIB, 1024, MAX_COLLECT_BYTES),
      maxEvents: boundedInt(env, 'POLICYLENS_COLLECT_MAX_EVENTS', 10_000, 1, 1_000_000),
      maxBytes: boundedInt(env, 'POLICYLENS_COLLECT_MAX_BYTES', 5 * MIB, 1024, MAX_COLLECT_BYTES),
      rateLimitPerMinute: positiveInt(env, 'POLICYLENS_COLLECT_RATE_LIMIT', 6_000),
    },
    dashboards: {
      dir: env.POLICYLENS_DASHBOARDS_DIR ? resolve(env.POLICYLENS_DASHBOARDS_DIR) : join(dirname(dataDir), 'dashboards'),
      everySeconds: boundedInt(env, 'POLICYLENS_DASHBOARDS_EVERY', 300, 0, MAX_DASHBOARDS_EVERY_SECONDS),
      apiKey: env.POLICYLENS_API_KEY || null,
    },
    exports: {
      secret: env.POLICYLENS_EXPORT_SECRET || null,
      tmpDir: env.POLICYLENS_EXPORT_TMP_DIR || tmpdir(),
      minCell: boundedInt(env, 'POLICYLENS_EXPORT_MIN_CELL', DEFAULT_MIN_CELL, 1, MAX_MIN_CELL),
      maxRunning: maxExports,
    },
    log: { level: oneOf(env, 'POLICYLENS_LOG_LEVEL', 'info', LOG_LEVELS) },
  };
}
