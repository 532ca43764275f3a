// NDJSON text of valid events, built by hand: a fixed key order and no JSON.stringify keeps
// output byte-stable and fast. Every string written here is from a safe alphabet
// ([A-Za-z0-9_-]), so no escaping is needed.
import type { Channel, EngagementType, EventFamily, Frequency, SendCategory, SubscriptionType } from '../events/types.js';

/** One line of the simulated stream, as the simulator hands it to a file or to Kafka. */
export interface SimulatedLine {
  /** One NDJSON line, without the newline. */
  line: string;
  /** The Kafka key: user_id (for bad lines, some string). */
  key: string;
  /** null for a bad line. */
  family: EventFamily | null;
  /** An exact byte copy of an earlier line. */
  duplicate: boolean;
}

const str = (s: string | null): string => (s === null ? 'null' : `"${s}"`);

/** Integer micro-dollars as a JSON number with at most 6 decimals (exact in Decimal(18,6)). */
export function microsJson(micros: number): string {
  if (micros === 0) return '0';
  const whole = Math.floor(micros / 1e6);
  const frac = String(micros % 1e6)
    .padStart(6, '0')
    .replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

export function sendLine(
  id: string,
  occurredAt: string,
  businessId: string,
  userId: string,
  channel: Channel,
  category: SendCategory,
  frequency: Frequency | null,
  topic: string | null,
  campaignId: string | null,
  costMicros: number,
): string {
  return `{"event_id":"${id}","type":"send","occurred_at":${occurredAt},"business_id":"${businessId}","user_id":"${userId}","channel":"${channel}","category":"${category}","frequency":${str(frequency)},"topic":${str(topic)},"campaign_id":${str(campaignId)},"cost_usd":${microsJson(costMicros)}}`;
}

export function engagementLine(
  id: string,
  type: EngagementType,
  occurredAt: string,
  businessId: string,
  userId: string,
  channel: Channel,
  sendId: string,
  revenueMicros: number,
): string {
  const revenue = type === 'converted' ? `,"revenue_usd":${microsJson(revenueMicros)}` : '';
  return `{"event_id":"${id}","type":"${type}","occurred_at":${occurredAt},"business_id":"${businessId}","user_id":"${userId}","channel":"${channel}","send_id":"${sendId}"${revenue}}`;
}

export function subscriptionLine(
  id: string,
  type: SubscriptionType,
  occurredAt: string,
  businessId: string,
  userId: string,
  channel: Channel,
  topic: string | null,
  frequency: Frequency | null,
  reason: string | null,
): string {
  return `{"event_id":"${id}","type":"${type}","occurred_at":${occurredAt},"business_id":"${businessId}","user_id":"${userId}","channel":"${channel}","topic":${str(topic)},"frequency":${str(frequency)},"reason":${str(reason)}}`;
}
