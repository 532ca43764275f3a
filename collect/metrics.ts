// What collect counts for /metrics, one registry per app so tests read their own.
import { Counter, Registry } from 'prom-client';
import { collectProcessMetrics } from '../common/process-metrics.js';
import { createRequestMetrics, type RecordRequest } from '../common/request-metrics.js';

/** Meta's object kinds the mapping knows; any other value is counted as `other` so the label set stays bounded. */
export const KNOWN_OBJECTS = ['page', 'instagram', 'whatsapp_business_account'] as const;
export const objectLabel = (object: string): string => ((KNOWN_OBJECTS as readonly string[]).includes(object) ? object : 'other');

export interface CollectMetrics {
  registry: Registry;
  recordRequest: RecordRequest;
  badSignatures: Counter;
  webhooksAppended: Counter<'object'>;
  webhooksRejected: Counter<'reason'>;
  events: Counter<'outcome'>;
  kafkaUnavailable: Counter<'route'>;
}

export function createCollectMetrics(): CollectMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry, 'policylens_collect_');
  const r = [registry];
  return {
    registry,
    recordRequest: createRequestMetrics(registry, 'policylens_collect_'),
    badSignatures: new Counter({
      name: 'policylens_collect_webhook_bad_signatures_total',
      help: 'Webhook POSTs refused with 401: X-Hub-Signature-256 missing or wrong',
      registers: r,
    }),
    webhooksAppended: new Counter({
      name: 'policylens_collect_webhooks_appended_total',
      help: 'Webhook payloads acknowledged by Kafka on the raw topic, by object (other: an object the mapping does not know)',
      labelNames: ['object'],
      registers: r,
    }),
    webhooksRejected: new Counter({
      name: 'policylens_collect_webhooks_rejected_total',
      help: 'Signed webhook POSTs refused with 400, by reason (not_json, no_object)',
      labelNames: ['reason'],
      registers: r,
    }),
    events: new Counter({
      name: 'policylens_collect_events_total',
      help: 'Events of POST /v1/events, by outcome (accepted: acknowledged by Kafka; rejected: failed validation)',
      labelNames: ['outcome'],
      registers: r,
    }),
    kafkaUnavailable: new Counter({
      name: 'policylens_collect_kafka_unavailable_total',
      help: 'Requests answered 503 because Kafka did not acknowledge them, by route',
      labelNames: ['route'],
      registers: r,
    }),
  };
}
