// docker-compose.yml and the Dockerfile cannot be run here (no Docker engine), so their shape is checked instead.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

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
