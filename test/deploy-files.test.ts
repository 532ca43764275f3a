// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so their shape is checked instead.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../common/config.js';

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true });
const pom = readFileSync(new URL('../devtools/kafka/pom.xml', import.meta.url), 'utf8');
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

describe('docker-compose.yml', () => {
  it('runs the same Kafka version as the local broker and the tests', () => {
    const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
    expect(compose.services.kafka.image).toBe(`apache/kafka:${version}`);
  });

  it('sets the single-node replication factors kafkajs consumer groups need', () => {
    const env = compose.services.kafka.environment;
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1);
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(1);
    expect(env.KAFKA_MESSAGE_MAX_BYTES).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it('gives every service a health check and starts policylens only on healthy dependencies', () => {
    for (const [name, svc] of Object.entries<Record<string, any>>(compose.services)) expect(svc.healthcheck, name).toBeDefined();
    expect(compose.services.ingest.depends_on).toEqual({ kafka: { condition: 'service_healthy' }, clickhouse: { condition: 'service_healthy' } });
    expect(compose.services.ingest.environment.POLICYLENS_CLICKHOUSE_URL).toBe('http://clickhouse:8123');
    expect(compose.services.api.environment.POLICYLENS_KAFKA_BROKERS).toBe('kafka:19092');
  });

  it('keeps data in named volumes', () => {
    expect(Object.keys(compose.volumes)).toEqual(['kafka-data', 'clickhouse-data']);
  });
});

/** The project's .ts files a module loads, static and dynamic imports alike, itself included. */
function loadedFiles(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  for (const [, spec] of readFileSync(join(ROOT, entry), 'utf8').matchAll(/(?:from|import\()\s*'(\.\.?\/[^']+)\.js'/g)) {
    const file = normalize(join(dirname(entry), `${spec}.ts`));
    if (existsSync(join(ROOT, file))) loadedFiles(file, seen);
  }
  return seen;
}

describe('Dockerfile', () => {
  const major = Number(/^FROM node:(\d+)-[a-z]+-slim$/m.exec(dockerfile)?.[1]);

  it('runs a slim Node LTS image that package.json accepts', () => {
    expect(major % 2, 'even majors are the LTS lines').toBe(0);
    // Only the two range forms package.json uses are understood; another form fails here rather than pass unread.
    const accepts = String(pkg.engines.node)
      .split('||')
      .map((range) => /^\s*(\^|>=)(\d+)\.\d+\.\d+\s*$/.exec(range) ?? expect.unreachable(`engines range ${range}`))
      .some(([, op, min]) => (op === '^' ? major === Number(min) : major >= Number(min)));
    expect(accepts, `node:${major} against engines ${pkg.engines.node}`).toBe(true);
  });

  it('copies every folder the server commands load, and runs them with no build step', () => {
    const copied = new Set([...dockerfile.matchAll(/^COPY (\S+) \.\/\1$/gm)].map(([, dir]) => dir));
    for (const command of ['serve', 'collect', 'ingest', 'migrate', 'export', 'dashboards', 'summary', 'load']) {
      for (const file of loadedFiles(`cli/${command}.ts`)) expect(copied, `${command} loads ${file}`).toContain(file.split('/')[0]);
    }
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/policylens\.js"\]$/m);
    expect(pkg.dependencies).not.toHaveProperty('tsx');
  });
});

describe('deploy/cluster: the production layout of docs/operations.md', () => {
  const dir = join(ROOT, 'deploy/cluster');
  const cluster = parse(readFileSync(join(dir, 'compose.yml'), 'utf8'), { merge: true });
  const services = cluster.services as Record<string, any>;
  const servers = Object.keys(services).filter((s) => s.startsWith('ch-'));
  const keepers = Object.keys(services).filter((s) => s.startsWith('keeper-'));
  const xml = (file: string) => readFileSync(join(dir, file), 'utf8');
  const mounted = (service: string, target: string) =>
    (services[service].volumes as string[])
      .find((v) => v.split(':')[1] === target)
      ?.split(':')[0]
      .replace(/^\.\//, '');

  it('has three Keeper nodes of one ensemble and four ClickHouse servers', () => {
    expect(keepers).toHaveLength(3);
    expect(servers).toHaveLength(4);
    const raft = keepers.map((k) => xml(mounted(k, '/etc/clickhouse-keeper/keeper_config.d/keeper.xml')!));
    expect(raft.map((x) => /<server_id>(\d+)<\/server_id>/.exec(x)![1]).sort()).toEqual(['1', '2', '3']);
    for (const x of raft) expect([...x.matchAll(/<hostname>([^<]+)<\/hostname>/g)].map((m) => m[1]).sort()).toEqual(keepers.sort());
  });

  it('gives each server its own shard and replica, and names them all as the cluster of 2 shards x 2 replicas', () => {
    const shared = xml('clickhouse/cluster.xml');
    const macros = servers.map((s) => {
      expect(mounted(s, '/etc/clickhouse-server/config.d/cluster.xml'), s).toBe('clickhouse/cluster.xml');
      const m = xml(mounted(s, '/etc/clickhouse-server/config.d/macros.xml')!);
      return `${/<shard>(\d+)<\/shard>/.exec(m)![1]}/${/<replica>(\w+)<\/replica>/.exec(m)![1]}`;
    });
    expect(macros.sort()).toEqual(['1/r1', '1/r2', '2/r1', '2/r2']);
    const shards = [...shared.matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map((m) => m[1]);
    expect(shards).toHaveLength(2);
    for (const shard of shards) {
      expect(shard).toContain('<internal_replication>true</internal_replication>');
      expect([...shard.matchAll(/<host>([^<]+)<\/host>/g)]).toHaveLength(2);
    }
    const hosts = [...shared.matchAll(/<replica><host>([^<]+)<\/host>/g)].map((m) => m[1]);
    expect(hosts.sort()).toEqual([...servers].sort());
    expect([...shared.matchAll(/<node><host>([^<]+)<\/host>/g)].map((m) => m[1]).sort()).toEqual(keepers.sort());
  });

  it('points policylens at every server, replicated, with settings the configuration accepts', () => {
    const env = services.api.environment as Record<string, string | number>;
    expect(services.ingest.environment).toMatchObject({ POLICYLENS_CLICKHOUSE_CLUSTER: 'policylens', POLICYLENS_CLICKHOUSE_REPLICATED: 1 });
    const config = loadConfig(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])));
    expect(config.clickhouse.cluster).toBe('policylens');
    expect(config.clickhouse.replicated).toBe(true);
    expect(config.clickhouse.nodes.sort()).toEqual(servers.map((s) => `http://${s}:8123`).sort());
    expect(services.ingest.deploy.replicas).toBe(2);
  });
});
