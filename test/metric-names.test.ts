// Every metric the API and the ingest expose follows Prometheus's naming rules
// (https://prometheus.io/docs/practices/naming/), as `promtool check metrics` does: `_total` only on counters, and
// on every counter.
import { describe, expect, it } from 'vitest';
import { createKeyRing } from '../common/api-keys.js';
import { loadConfig } from '../common/config.js';
import { buildCollectApp } from '../collect/app.js';
import { createKafkaSink } from '../collect/kafka-sink.js';
import { createLogger } from '../common/log.js';
import { createKafka } from '../ingest/kafka.js';
import { brokers } from './helpers/kafka.js';
import { createIngestMetrics } from '../ingest/metrics.js';
import { useTestApi } from './helpers/api.js';

const api = useTestApi();

/** Name and type of every `# TYPE` line. */
const types = (text: string): [string, string][] => [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]);

function namingProblems(text: string): string[] {
  const problems: string[] = [];
  for (const [name, type] of types(text)) {
    if (!/^[a-z_:][a-z0-9_:]*$/.test(name)) problems.push(`${name}: not a valid name`);
    if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name}: a counter without _total`);
    if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name}: a ${type} with _total`);
  }
  return problems;
}

describe('metric names', () => {
  it('finds the problems it looks for', () => {
    const bad = '# TYPE a_total gauge\n# TYPE b counter\n# TYPE C_x histogram\n# TYPE d_seconds_total counter\n';
    expect(namingProblems(bad)).toEqual(['a_total: a gauge with _total', 'b: a counter without _total', 'C_x: not a valid name']);
  });

  it('holds for the API', async () => {
    await api.app.inject({ url: '/healthz' });
    const text = (await api.app.inject({ url: '/metrics' })).body;
    expect(types(text).length).toBeGreaterThan(10);
    expect(text).toContain('# TYPE policylens_api_requests_total counter');
    expect(namingProblems(text)).toEqual([]);
  });

  it('holds for the ingest, process metrics included', async () => {
    const m = createIngestMetrics(undefined, true);
    m.lag.set({ topic: 't', partition: '0' }, 1);
    const text = await m.registry.metrics();
    expect(text).toContain('# TYPE policylens_ingest_consumer_lag gauge');
    expect(text).toContain('# TYPE policylens_nodejs_active_handles gauge');
    expect(namingProblems(text)).toEqual([]);
  });

  it('holds for collect, process metrics included', async () => {
    const config = loadConfig({ POLICYLENS_META_APP_SECRET: 'x', POLICYLENS_KAFKA_BROKERS: brokers() });
    const log = createLogger({}, 'error');
    const sink = createKafkaSink(createKafka(config, log), log);
    const app = await buildCollectApp({ config, keys: createKeyRing([]), sink, log });
    try {
      await app.inject({ method: 'POST', url: '/v1/webhooks/meta', payload: '{}' });
      const text = (await app.inject({ url: '/metrics' })).body;
      expect(text).toContain('# TYPE policylens_collect_requests_total counter');
      expect(text).toContain('# TYPE policylens_collect_webhook_bad_signatures_total counter');
      expect(text).toContain('# TYPE policylens_collect_nodejs_active_handles gauge');
      expect(namingProblems(text)).toEqual([]);
    } finally {
      await app.close();
      await sink.close();
    }
  });
});
