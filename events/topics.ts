import type { EventFamily } from './types.js';

// Topic names live here and nowhere else. The prefix is a setting (POLICYLENS_TOPIC_PREFIX) so tests
// and side-by-side deployments can have topics of their own.
export const DEFAULT_TOPIC_PREFIX = 'policylens';

export interface TopicNames {
  events: Record<EventFamily, string>;
  dlq: string;
  /** Payloads from outside sources (Meta's webhooks), appended as received; the mapping stage reads them. */
  raw: string;
}

export function topicNames(prefix: string = DEFAULT_TOPIC_PREFIX): TopicNames {
  return {
    events: { sends: `${prefix}.sends`, engagements: `${prefix}.engagements`, subscriptions: `${prefix}.subscriptions` },
    dlq: `${prefix}.dlq`,
    raw: `${prefix}.raw`,
  };
}

export const allTopics = (t: TopicNames): string[] => [...Object.values(t.events), t.dlq, t.raw];

/**
 * Headers on every message of the raw topic. The value is the request body byte for byte (a signature was
 * checked on those bytes, and a better mapping may re-read them later), so what is known about the request
 * travels beside it.
 */
export const RAW_HEADERS = {
  /** When the collector received the request, ISO 8601 UTC with milliseconds. */
  receivedAt: 'policylens-received-at',
  /** Which source sent it: `meta` for Meta's webhooks (Messenger, Instagram, WhatsApp). */
  source: 'policylens-source',
} as const;
