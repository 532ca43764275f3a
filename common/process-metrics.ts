// The Node.js process metrics every policylens process exposes, under its own prefix. prom-client's defaults include
// three gauges named `*_active_{handles,requests,resources}_total`; Prometheus keeps `_total` for counters
// (https://prometheus.io/docs/practices/naming/), so they are left out: each is the sum of the gauge of the same name
// without `_total` (by `type`), e.g. `sum(policylens_api_nodejs_active_handles)`.
import { collectDefaultMetrics, type Registry } from 'prom-client';

export function collectProcessMetrics(registry: Registry, prefix: string): void {
  collectDefaultMetrics({ register: registry, prefix });
  for (const what of ['handles', 'requests', 'resources']) registry.removeSingleMetric(`${prefix}nodejs_active_${what}_total`);
}
