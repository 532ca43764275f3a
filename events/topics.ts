import type { EventFamily } from './types.js';

// Topic names live here and nowhere else.
export const TOPICS: Record<EventFamily, string> = {
  sends: 'policylens.sends',
  engagements: 'policylens.engagements',
  subscriptions: 'policylens.subscriptions',
};
export const DLQ_TOPIC = 'policylens.dlq';
export const EVENT_TOPICS = Object.values(TOPICS);
