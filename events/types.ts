// Event contract v1.1. docs/events.md is the prose of this file; keep both in step.

export const CHANNELS = ['messenger', 'instagram', 'whatsapp'] as const;
export type Channel = (typeof CHANNELS)[number];

export const SEND_CATEGORIES = [
  'response',
  'message_tag',
  'one_time_notification',
  'recurring_notification',
  'marketing_message',
  'sponsored',
  'marketing_template',
  'utility_template',
  'authentication_template',
  'service',
  // v1.1: a send seen only in a webhook that names no category (docs/sources.md)
  'unknown',
] as const;
export type SendCategory = (typeof SEND_CATEGORIES)[number];

export const FREQUENCIES = ['daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

export const ENGAGEMENT_TYPES = ['delivered', 'read', 'clicked', 'replied', 'converted'] as const;
export type EngagementType = (typeof ENGAGEMENT_TYPES)[number];

export const SUBSCRIPTION_TYPES = ['opt_in', 'opt_out', 'block', 'spam_report'] as const;
export type SubscriptionType = (typeof SUBSCRIPTION_TYPES)[number];

export type EventType = 'send' | EngagementType | SubscriptionType;

/** Which raw table (and Kafka topic) an event belongs to. */
export const EVENT_FAMILIES = ['sends', 'engagements', 'subscriptions'] as const;
export type EventFamily = (typeof EVENT_FAMILIES)[number];

/** The family (raw table and topic) of an event type; null for a value that is not a type. */
export function familyOfType(type: unknown): EventFamily | null {
  if (type === 'send') return 'sends';
  if ((ENGAGEMENT_TYPES as readonly unknown[]).includes(type)) return 'engagements';
  if ((SUBSCRIPTION_TYPES as readonly unknown[]).includes(type)) return 'subscriptions';
  return null;
}

export const MAX_EVENT_BYTES = 64 * 1024;

interface CommonFields {
  event_id: string;
  /** RFC 3339 with offset, or epoch milliseconds. */
  occurred_at: string | number;
  business_id: string;
  user_id: string;
  channel: Channel;
  /** Overrides the regime derived from channel and occurred_at. */
  regime?: string | null;
}

export interface SendEvent extends CommonFields {
  type: 'send';
  category: SendCategory;
  frequency?: Frequency | null;
  topic?: string | null;
  campaign_id?: string | null;
  cost_usd?: number;
}

export interface EngagementEvent extends CommonFields {
  type: EngagementType;
  send_id: string;
  revenue_usd?: number;
}

export interface SubscriptionEvent extends CommonFields {
  type: SubscriptionType;
  topic?: string | null;
  frequency?: Frequency | null;
  reason?: string | null;
}

export type PolicyEvent = SendEvent | EngagementEvent | SubscriptionEvent;

/** A validated event, normalised for the warehouse: epoch ms, nulls filled, defaults applied. */
interface CommonRow {
  event_id: string;
  occurred_at: number;
  business_id: string;
  user_id: string;
  channel: Channel;
  regime: string | null;
}

export interface SendRow extends CommonRow {
  category: SendCategory;
  frequency: Frequency | null;
  topic: string | null;
  campaign_id: string | null;
  cost_usd: number;
}

export interface EngagementRow extends CommonRow {
  type: EngagementType;
  send_id: string;
  revenue_usd: number;
}

export interface SubscriptionRow extends CommonRow {
  type: SubscriptionType;
  topic: string | null;
  frequency: Frequency | null;
  reason: string | null;
}

export type NormalizedEvent =
  | { family: 'sends'; row: SendRow }
  | { family: 'engagements'; row: EngagementRow }
  | { family: 'subscriptions'; row: SubscriptionRow };
