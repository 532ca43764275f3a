// The compact state the world keeps. A thread is one (user, business, channel) relationship —
// at most one is active per triple, so spam-risk events attribute unambiguously to the
// thread's latest send. A pending item is an event already decided but due later (the funnel
// of a send, a spam-risk event, a key release, a new arrival).
import type { Channel, Frequency, SubscriptionType } from '../events/types.js';
import type { Scheduled } from './heap.js';
import type { Business } from './population.js';
import type { PricingState } from './pricing.js';

/** Thread kinds. */
export const CONVERSATION = 0; // Messenger/Instagram, user-initiated conversations, tags, OTN
export const SUBSCRIPTION = 1; // Messenger/Instagram recurring notifications (opt_in with frequency)
export const MARKETING_MESSAGES = 2; // Messenger/Instagram paid marketing messages subscribers
export const WHATSAPP = 3; // WhatsApp opted-in customer

/** Streams of a thread, each with its own next time. */
export const MARKETING = 0; // recurring / marketing message / marketing template cadence
export const TOKEN = 1; // re-opt-in prompt before a recurring token expires
export const SESSION = 2; // the user starts a conversation
export const RESPONSE = 3; // the business answers inside a session (or the 24+1 follow-up)
export const TRANSACTIONAL = 4; // message tags / utility
export const AUXILIARY = 5; // one-time notification (Messenger) or authentication (WhatsApp)
export const IN_SESSION_UTILITY = 6; // WhatsApp utility template inside the service window
export const STREAMS = 7;

/** Marketing mode of a Messenger/Instagram subscription. */
export const RECURRING = 0;
export const PAID_MARKETING = 1;

export class Thread implements Scheduled {
  t = 0;
  seq = 0;
  readonly isThread = true;
  readonly next = new Float64Array(STREAMS).fill(Infinity);
  endAt = Infinity;
  responsesLeft = 0;
  followUpPending = false;
  mode = RECURRING;
  lastSend = -Infinity;
  /** Latest pending spam-risk event: the key is not released before it. */
  busyUntil = -Infinity;
  alive = true;

  readonly kind: number;
  readonly key: number;
  readonly userId: string;
  readonly business: Business;
  readonly businessIndex: number;
  readonly channel: Channel;
  readonly arrivalDay: number;
  readonly topic: string | null;
  frequency: Frequency | null;
  readonly country: number;
  readonly pricing: PricingState | null;

  constructor(
    kind: number,
    key: number,
    userId: string,
    business: Business,
    businessIndex: number,
    channel: Channel,
    arrivalDay: number,
    topic: string | null,
    frequency: Frequency | null,
    country: number,
    pricing: PricingState | null,
  ) {
    this.kind = kind;
    this.key = key;
    this.userId = userId;
    this.business = business;
    this.businessIndex = businessIndex;
    this.channel = channel;
    this.arrivalDay = arrivalDay;
    this.topic = topic;
    this.frequency = frequency;
    this.country = country;
    this.pricing = pricing;
  }
}

export const FUNNEL = 0;
export const SPAM_RISK = 1;
export const RELEASE = 2;
export const ARRIVAL = 3;

/** Funnel stages in ENGAGEMENT_TYPES order. */
export const STAGE_TYPES = ['delivered', 'read', 'clicked', 'replied', 'converted'] as const;

export class Pending implements Scheduled {
  t = 0;
  seq = 0;
  readonly isThread = false;
  thread: Thread | null = null;
  /** Whether the causing send was written (events of warm-up sends are not). */
  written = false;
  cell = -1;
  // funnel
  sendId = '';
  readonly stageAt = new Float64Array(5).fill(Infinity);
  stage = 0;
  revenueMicros = 0;
  // spam risk
  spamType: SubscriptionType = 'opt_out';
  reason: string | null = null;
  attributed = true;
  releaseKey = false;
  readonly tag: number;

  constructor(tag: number) {
    this.tag = tag;
  }
}
