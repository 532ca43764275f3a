// docker-compose.yml cannot be run here (no Docker engine), so its shape is checked instead.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true });
const pom = readFileSync(new URL('../devtools/kafka/pom.xml', import.meta.url), 'utf8');

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
