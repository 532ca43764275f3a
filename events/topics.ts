import type { EventFamily } from './types.js';

// Topic names live here and nowhere else. The prefix is a setting (POLICYLENS_TOPIC_PREFIX) so tests
// and side-by-side deployments can have topics of their own.
export const DEFAULT_TOPIC_PREFIX = 'policylens';

export interface TopicNames {
  events: Record<EventFamily, string>;
  dlq: string;
}

export function topicNames(prefix: string = DEFAULT_TOPIC_PREFIX): TopicNames {
  return {
    events: { sends: `${prefix}.sends`, engagements: `${prefix}.engagements`, subscriptions: `${prefix}.subscriptions` },
    dlq: `${prefix}.dlq`,
  };
}

export const allTopics = (t: TopicNames): string[] => [...Object.values(t.events), t.dlq];
