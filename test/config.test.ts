// The configuration: its defaults, an error naming the variable for every malformed value, the settings table of
// README.md in step with it, and no other production code reading the environment.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debugFromEnv, loadConfig, MIN_SESSION_SECRET_CHARS } from '../common/config.js';
import { DEFAULT_ATTRIBUTION_WINDOW_HOURS, MAX_ATTRIBUTION_WINDOW_HOURS, PAIRS_MAX_WINDOW_HOURS } from '../events/attribution.js';
import { checkExportSecret, MIN_SECRET_LENGTH } from '../query/exports/pseudonym.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('loadConfig', () => {
  it('has a default for every setting', () => {
    const c = loadConfig({});
    expect(c.dataDir).toBe(resolve('.policylens/data'));
    expect(c.clickhouse).toEqual({
      url: null,
      user: 'default',
      password: '',
      database: 'policylens',
      maxConnections: 16,
      cluster: null,
      nodes: [],
      replicated: false,
    });
    expect(c.answerCache).toEqual({ entries: 1_000, maxBytes: 64 * 1024 * 1024 });
    expect(c.kafka).toEqual({
      brokers: ['127.0.0.1:9092'],
      brokersConfigured: false,
      partitions: 6,
      clientId: 'policylens',
      groupId: 'policylens-ingest',
      topicPrefix: 'policylens',
    });
    expect(c.ingest).toEqual({ batchMaxRows: 50_000, batchMaxMs: 1_000, maxHeldRows: 100_000 });
    expect(c.attributionWindowHours).toBe(72);
    expect(DEFAULT_ATTRIBUTION_WINDOW_HOURS).toBe(72);
    expect([c.port, c.host, c.apiKeys, c.trustedProxies, c.rateLimitPerMinute]).toEqual([8787, '127.0.0.1', null, [], 600]);
    expect(c.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(c.sessions).toEqual({ secret: null, hours: 12 });
    expect(c.collect).toEqual({
      port: 8788,
      host: '127.0.0.1',
      metaVerifyToken: null,
      metaAppSecret: null,
      webhookMaxBytes: 8 * 1024 * 1024,
      maxEvents: 10_000,
      maxBytes: 5 * 1024 * 1024,
      rateLimitPerMinute: 6_000,
    });
    expect(c.dashboards).toEqual({ dir: resolve('.policylens/dashboards'), everySeconds: 300, apiKey: null });
    expect(c.exports).toEqual({ secret: null, tmpDir: tmpdir(), minCell: 10, maxRunning: 2 });
    expect(c.log).toEqual({ level: 'info' });
  });

  it('takes each setting from its variable; an empty variable counts as unset', () => {
    const c = loadConfig({
      POLICYLENS_DATA_DIR: '/srv/pl/data',
      POLICYLENS_KAFKA_BROKERS: 'a:9092, b:9092',
      POLICYLENS_ATTRIBUTION_WINDOW_HOURS: '24',
      POLICYLENS_PORT: '65535',
      POLICYLENS_API_KEYS: 'k:admin',
      POLICYLENS_API_KEY: 'client-key',
      POLICYLENS_DASHBOARDS_EVERY: '0',
      POLICYLENS_EXPORT_SECRET: 'short',
      POLICYLENS_EXPORT_TMP_DIR: '/srv/tmp',
      POLICYLENS_EXPORT_MIN_CELL: '1000000',
      POLICYLENS_LOG_LEVEL: 'debug',
      POLICYLENS_BATCH_MAX_ROWS: '',
      POLICYLENS_TRUSTED_PROXIES: '10.0.0.1, 10.1.0.0/16,::1,fd00::/8',
      POLICYLENS_CLICKHOUSE_CONNECTIONS: '40',
      POLICYLENS_EXPORTS_MAX: '39',
      POLICYLENS_ANSWER_CACHE_ENTRIES: '0',
      POLICYLENS_ANSWER_CACHE_MB: '2',
      POLICYLENS_COLLECT_PORT: '9000',
      POLICYLENS_COLLECT_HOST: '0.0.0.0',
      POLICYLENS_META_VERIFY_TOKEN: 'verify-me',
      POLICYLENS_META_APP_SECRET: 'app-secret',
      POLICYLENS_COLLECT_WEBHOOK_MAX_BYTES: '4194304',
      POLICYLENS_COLLECT_MAX_EVENTS: '500',
      POLICYLENS_COLLECT_MAX_BYTES: '1048576',
      POLICYLENS_COLLECT_RATE_LIMIT: '60',
    });
    expect(c.collect).toEqual({
      port: 9000,
      host: '0.0.0.0',
      metaVerifyToken: 'verify-me',
      metaAppSecret: 'app-secret',
      webhookMaxBytes: 4_194_304,
      maxEvents: 500,
      maxBytes: 1_048_576,
      rateLimitPerMinute: 60,
    });
    expect([c.clickhouse.maxConnections, c.exports.maxRunning]).toEqual([40, 39]);
    expect(c.answerCache).toEqual({ entries: 0, maxBytes: 2 * 1024 * 1024 });
    expect(c.trustedProxies).toEqual(['10.0.0.1', '10.1.0.0/16', '::1', 'fd00::/8']);
    expect(loadConfig({ POLICYLENS_RATE_LIMIT: '100000' }).rateLimitPerMinute).toBe(100_000);
    expect(c.dashboards).toEqual({ dir: '/srv/pl/dashboards', everySeconds: 0, apiKey: 'client-key' });
    expect(c.kafka).toMatchObject({ brokers: ['a:9092', 'b:9092'], brokersConfigured: true });
    expect([c.attributionWindowHours, c.port, c.apiKeys, c.log.level, c.ingest.batchMaxRows]).toEqual([24, 65535, 'k:admin', 'debug', 50_000]);
    // A short secret is no reason to refuse to start: only exports of identifiers need it (below).
    expect(c.exports).toMatchObject({ secret: 'short', tmpDir: '/srv/tmp', minCell: 1_000_000 });
    expect(loadConfig({ POLICYLENS_DASHBOARDS_DIR: 'site' }).dashboards.dir).toBe(resolve('site'));
    const secret = 's'.repeat(MIN_SESSION_SECRET_CHARS);
    expect(loadConfig({ POLICYLENS_SESSION_SECRET: secret, POLICYLENS_SESSION_HOURS: '720' }).sessions).toEqual({ secret, hours: 720 });
  });

  it('refuses a short session secret without printing it', () => {
    const short = `abcd${'x'.repeat(MIN_SESSION_SECRET_CHARS - 5)}`;
    expect(() => loadConfig({ POLICYLENS_SESSION_SECRET: short })).toThrow(
      `POLICYLENS_SESSION_SECRET must be at least ${MIN_SESSION_SECRET_CHARS} characters, got "abcd…"`,
    );
  });

  it('accepts attribution windows past the spam_pairs limit (answered from the raw tables) up to a year', () => {
    for (const hours of [1, PAIRS_MAX_WINDOW_HOURS, PAIRS_MAX_WINDOW_HOURS + 1, MAX_ATTRIBUTION_WINDOW_HOURS]) {
      expect(loadConfig({ POLICYLENS_ATTRIBUTION_WINDOW_HOURS: String(hours) }).attributionWindowHours).toBe(hours);
    }
  });

  const expected = {
    positive: 'a positive integer',
    port: 'a whole number from 1 to 65535',
    window: `a whole number from 1 to ${MAX_ATTRIBUTION_WINDOW_HOURS}`,
    every: 'a whole number from 0 to 2147483',
    minCell: 'a whole number from 1 to 1000000',
    level: 'one of debug, info, warn, error',
    proxies: 'comma-separated IP addresses or CIDR ranges',
    sessionHours: 'a whole number from 1 to 720',
    rateLimit: 'a whole number from 1 to 100000000',
  };
  const bad: [string, string[], string][] = [
    ['POLICYLENS_KAFKA_PARTITIONS', ['0', '-1', 'six', '1.5', '6 partitions'], expected.positive],
    ['POLICYLENS_BATCH_MAX_ROWS', ['0', '1e3.5'], expected.positive],
    ['POLICYLENS_BATCH_MAX_MS', ['-5', 'x'], expected.positive],
    ['POLICYLENS_MAX_HELD_ROWS', ['0.5'], expected.positive],
    ['POLICYLENS_ATTRIBUTION_WINDOW_HOURS', ['0', '72h', '2.5', String(MAX_ATTRIBUTION_WINDOW_HOURS + 1)], expected.window],
    ['POLICYLENS_PORT', ['0', '65536', '80a'], expected.port],
    ['POLICYLENS_METRICS_PORT', ['-1', '100000'], expected.port],
    ['POLICYLENS_COLLECT_PORT', ['0', '65536'], expected.port],
    ['POLICYLENS_COLLECT_MAX_EVENTS', ['0', '1000001', 'ten'], 'a whole number from 1 to 1000000'],
    ['POLICYLENS_COLLECT_MAX_BYTES', ['1023', '10485760', '5MB'], 'a whole number from 1024 to 10420224'],
    ['POLICYLENS_COLLECT_WEBHOOK_MAX_BYTES', ['10'], 'a whole number from 1024 to 10420224'],
    ['POLICYLENS_COLLECT_RATE_LIMIT', ['0', '-1'], expected.positive],
    ['POLICYLENS_DASHBOARDS_EVERY', ['-1', '2147484', 'hourly'], expected.every],
    ['POLICYLENS_EXPORT_MIN_CELL', ['0', '1000001', '10) OR (1=1'], expected.minCell],
    ['POLICYLENS_LOG_LEVEL', ['verbose', 'INFO', 'warning'], expected.level],
    ['POLICYLENS_CLICKHOUSE_CONNECTIONS', ['1', '1001', 'many'], 'a whole number from 2 to 1000'],
    // Each export holds a connection: at least one is left for queries (16 by default).
    ['POLICYLENS_EXPORTS_MAX', ['0', '16', 'x'], 'a whole number from 1 to 15'],
    ['POLICYLENS_ANSWER_CACHE_ENTRIES', ['-1', '1000001', 'off'], 'a whole number from 0 to 1000000'],
    ['POLICYLENS_ANSWER_CACHE_MB', ['0', '65537', '1.5'], 'a whole number from 1 to 65536'],
    ['POLICYLENS_TRUSTED_PROXIES', ['proxy.local', '10.0.0.1/33', '10.0.0.1,', '::1/129', '10.0.0.0/8/1', '10.0.0.1/x'], expected.proxies],
    ['POLICYLENS_SESSION_HOURS', ['0', '721', '12h'], expected.sessionHours],
    ['POLICYLENS_RATE_LIMIT', ['0', '600/min', '1.5'], expected.rateLimit],
  ];
  it.each(bad)('refuses a malformed %s, naming it', (name, values, what) => {
    for (const raw of values) expect(() => loadConfig({ [name]: raw })).toThrow(`${name} must be ${what}, got ${JSON.stringify(raw)}`);
  });
});

describe('the cluster settings', () => {
  const url = { POLICYLENS_CLICKHOUSE_URL: 'http://127.0.0.1:8123' };
  it('name the cluster, its servers and whether tables are replicated', () => {
    const c = loadConfig({
      ...url,
      POLICYLENS_CLICKHOUSE_CLUSTER: 'pl',
      POLICYLENS_CLICKHOUSE_NODES: 'http://127.0.0.1:8123/, http://10.0.0.2:8123',
      POLICYLENS_CLICKHOUSE_REPLICATED: '1',
    });
    expect(c.clickhouse).toMatchObject({ cluster: 'pl', nodes: ['http://127.0.0.1:8123', 'http://10.0.0.2:8123'], replicated: true });
    expect(loadConfig({ ...url, POLICYLENS_CLICKHOUSE_CLUSTER: 'pl' }).clickhouse).toMatchObject({ nodes: [], replicated: false });
  });

  it('refuse what cannot work, naming the variable', () => {
    const cluster = { ...url, POLICYLENS_CLICKHOUSE_CLUSTER: 'pl' };
    expect(() => loadConfig({ ...url, POLICYLENS_CLICKHOUSE_CLUSTER: 'pl; DROP' })).toThrow('POLICYLENS_CLICKHOUSE_CLUSTER must be a plain identifier');
    expect(() => loadConfig({ POLICYLENS_CLICKHOUSE_CLUSTER: 'pl' })).toThrow('POLICYLENS_CLICKHOUSE_CLUSTER needs POLICYLENS_CLICKHOUSE_URL');
    expect(() => loadConfig({ ...cluster, POLICYLENS_CLICKHOUSE_NODES: '127.0.0.1:8123' })).toThrow('POLICYLENS_CLICKHOUSE_NODES must be comma-separated');
    expect(() => loadConfig({ ...cluster, POLICYLENS_CLICKHOUSE_NODES: 'http://a:1/x' })).toThrow('POLICYLENS_CLICKHOUSE_NODES must be comma-separated');
    expect(() => loadConfig({ ...cluster, POLICYLENS_CLICKHOUSE_REPLICATED: 'yes' })).toThrow('POLICYLENS_CLICKHOUSE_REPLICATED must be one of 0, 1');
    expect(() => loadConfig({ ...url, POLICYLENS_CLICKHOUSE_NODES: 'http://a:1' })).toThrow('POLICYLENS_CLICKHOUSE_NODES applies only to a cluster');
    expect(() => loadConfig({ ...url, POLICYLENS_CLICKHOUSE_REPLICATED: '1' })).toThrow('POLICYLENS_CLICKHOUSE_REPLICATED applies only to a cluster');
  });
});

describe('the export secret', () => {
  it('is checked when an export needs it, with the reason the API returns', () => {
    expect(checkExportSecret(null)).toEqual({ ok: false, reason: 'POLICYLENS_EXPORT_SECRET is not set.' });
    expect(checkExportSecret('')).toEqual({ ok: false, reason: 'POLICYLENS_EXPORT_SECRET is not set.' });
    expect(checkExportSecret('x'.repeat(MIN_SECRET_LENGTH - 1))).toEqual({
      ok: false,
      reason: `POLICYLENS_EXPORT_SECRET is shorter than ${MIN_SECRET_LENGTH} characters, which counts as not set.`,
    });
    expect(checkExportSecret('x'.repeat(MIN_SECRET_LENGTH))).toEqual({ ok: true, secret: 'x'.repeat(MIN_SECRET_LENGTH) });
  });
});

describe('POLICYLENS_DEBUG', () => {
  it('is on for any value', () => {
    expect([debugFromEnv({}), debugFromEnv({ POLICYLENS_DEBUG: '' }), debugFromEnv({ POLICYLENS_DEBUG: '1' })]).toEqual([false, false, true]);
  });
});

describe('README.md', () => {
  it('lists exactly the variables common/config.ts reads', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Documentation'));
    const documented = new Set([...table.matchAll(/`(POLICYLENS_[A-Z_]+)`/g)].map((m) => m[1]));
    const read = new Set([...readFileSync(join(ROOT, 'common/config.ts'), 'utf8').matchAll(/\b(POLICYLENS_[A-Z_]+)\b/g)].map((m) => m[1]));
    expect(read.size).toBeGreaterThan(20);
    expect([...documented].sort()).toEqual([...read].sort());
  });
});

describe('the environment', () => {
  // Development services (devtools/), benchmarks (they build the environment of child processes) and tests are
  // not the product; everything else is.
  const NOT_PRODUCTION = new Set(['node_modules', 'devtools', 'bench', 'test', 'docs']);
  // The one file that may read it, and why.
  const ALLOWED: Record<string, string> = { 'common/config.ts': 'the configuration: the only reader of the environment' };
  const READS_ENV = /\bprocess\s*(\.\s*env\b|\[\s*['"`]env['"`]\s*\])|\{[^}]*\benv\b[^}]*\}\s*(=\s*process\b|from\s*['"](node:)?process['"])/;

  const sources = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return name.startsWith('.') ? [] : sources(path);
      return /\.(ts|js|mjs|cjs)$/.test(name) ? [path] : [];
    });

  it('is read by common/config.ts only', () => {
    const folders = readdirSync(ROOT).filter((d) => !d.startsWith('.') && !NOT_PRODUCTION.has(d) && statSync(join(ROOT, d)).isDirectory());
    expect(folders).toEqual(expect.arrayContaining(['cli', 'common', 'dashboards', 'events', 'ingest', 'query', 'simulator', 'warehouse']));
    const files = folders.flatMap((d) => sources(join(ROOT, d))).map((f) => relative(ROOT, f));
    expect(files).toContain('common/config.ts');
    const readers = files.filter((f) => READS_ENV.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(readers).toEqual(Object.keys(ALLOWED));
  });

  it('is recognised however it is spelled', () => {
    for (const line of [
      'const x = process.env.FOO;',
      "process.env['FOO'] = '1';",
      'const { env } = process;',
      'process . env',
      "x = process['env'];",
      "import { argv, env } from 'node:process';",
    ]) {
      expect(READS_ENV.test(line), line).toBe(true);
    }
    for (const line of ['const env = deps.env;', 'loadConfig(env)', "import process from 'node:process';"]) expect(READS_ENV.test(line), line).toBe(false);
  });
});
