// The shape of the simulated world: businesses, subscriptions, cadences, lifetimes and timing.
// All of these are assumptions (marked so in docs/simulator.md) except the token validities,
// which come from a third-party description (docs.konversation.io, in domain.md).
import type { Frequency } from '../events/types.js';
import { DAY, HOUR, MINUTE, SECOND } from './time.js';

export const FREQUENCY_SCHEDULE: Record<Frequency, { periodDays: number; tokenValidityDays: number }> = {
  daily: { periodDays: 1, tokenValidityDays: 180 },
  weekly: { periodDays: 7, tokenValidityDays: 270 },
  monthly: { periodDays: 30, tokenValidityDays: 365 },
};

export const WORLD = {
  /** Businesses: 300 per million events, scaling with the square root of the event count. */
  businessesPerMillionEvents: 300,
  minBusinesses: 6,
  /** Share of businesses already active when the simulation starts; the rest join over time. */
  businessesAtStart: 0.25,
  /** Business size weight = u^-sizeExponent (heavy tail), capped. */
  businessSizeExponent: 0.6,
  businessSizeCap: 50,
  /** Channel profiles of businesses: which channels, with what weight. */
  channelProfiles: [
    { share: 0.25, weights: { messenger: 1, instagram: 0, whatsapp: 0 } },
    { share: 0.1, weights: { messenger: 0, instagram: 1, whatsapp: 0 } },
    { share: 0.25, weights: { messenger: 0, instagram: 0, whatsapp: 1 } },
    { share: 0.2, weights: { messenger: 0.6, instagram: 0.4, whatsapp: 0 } },
    { share: 0.2, weights: { messenger: 0.4, instagram: 0.25, whatsapp: 0.35 } },
  ],
  /** Businesses adopting paid Marketing Messages when it opens (2025-07-01). */
  paidMarketingAdopterShare: 0.55,
  /** WhatsApp businesses sending marketing templates; sending authentication templates. */
  whatsappMarketingShare: 0.8,
  whatsappAuthShare: 0.45,
  /** A new thread reuses an existing user (subscribed elsewhere) with this probability. */
  userReuseShare: 0.2,

  /** Messenger/Instagram arrivals that are subscriptions once Recurring Notifications exist. */
  subscriptionShare: 0.45,
  /** Of those, at a paid-marketing adopter between 2025-07-01 and 2026-02-10, the share subscribing to marketing messages instead. */
  marketingMessageShareAtAdopters: 0.7,
  /** Frequency of new Messenger/Instagram opt-ins while all three existed (2022-05-19 .. 2023-01-31). */
  recurringFrequencyMix: { daily: 0.25, weekly: 0.45, monthly: 0.3 } as Record<Frequency, number>,
  /** WhatsApp opt-ins: the cadence a subscriber agreed to (the weekly/monthly withdrawal is Messenger's). */
  whatsappFrequencyMix: { daily: 0.15, weekly: 0.55, monthly: 0.3 } as Record<Frequency, number>,
  /** Re-opt-in at the prompt before a token expires; lower when the old frequency is no longer offered. */
  reOptInProbability: 0.35,
  reOptInProbabilityForcedDaily: 0.15,
  /** Recurring sends: interval = period x U(1, cadenceJitter). */
  cadenceJitter: 1.3,
  /** Marketing messages: interval = cooldown + exponential(mean). */
  marketingMessageMeanGapDays: 3,
  marketingCooldownHours: 24,
  marketingCooldownHoursFrom20250901: 48,

  /** Thread lifetimes: exponential mean, clipped. */
  conversationLifetimeDays: { mean: 90, min: 1, max: 540 },
  marketingMessageLifetimeDays: { mean: 200, min: 7, max: 720 },
  whatsappLifetimeDays: { mean: 240, min: 7, max: 720 },

  /** User-initiated conversations: mean days between sessions, by thread kind. */
  sessionGapDays: { conversation: 25, subscription: 45, marketingMessages: 45, whatsapp: 30 },
  /** Business responses per session: 1 + geometric with this mean of extra responses. */
  extraResponsesMean: 1.2,
  /** 24+1 era: probability of the "+1" follow-up 24–47 h after the user's last message. */
  plusOneFollowUpProbability: 0.55,
  /** From 2020-03-04: a session ends with a One-Time Notification token granted. */
  oneTimeNotificationProbability: 0.2,
  /** Transactional stream on Messenger/Instagram: mean days between message_tag sends. */
  tagGapDaysBefore2020: 9,
  tagGapDaysAfter2020: 35,
  tagGapDaysUtilityEra: 30,
  /** From 2026-02-10 transactional sends are utility messages with this probability (else one of three remaining tags). */
  utilityShareAfterTakeover: 0.6,
  /** WhatsApp transactional streams. */
  whatsappUtilityGapDays: 20,
  whatsappAuthGapDays: 45,
  /** WhatsApp: a session is followed by an order-confirmation utility template inside the service window. */
  whatsappInSessionUtilityProbability: 0.35,

  /** Subscription threads ending quietly: share followed by a spontaneous opt_out > 72 h after the last send. */
  spontaneousOptOutShare: 0.03,
  /** Days of simulation before `from` whose events are not written, so the world starts warm. */
  warmupDays: 120,
} as const;

export const TIMING = {
  /** send -> delivered */
  delivered: [0.5 * SECOND, 20 * SECOND],
  /** delivered -> read */
  read: [5 * SECOND, 12 * HOUR],
  /** read -> clicked */
  clicked: [3 * SECOND, 30 * MINUTE],
  /** read -> replied */
  replied: [10 * SECOND, 2 * HOUR],
  /** clicked -> converted */
  converted: [1 * MINUTE, 24 * HOUR],
  /** delivered -> opt_out / block / spam_report; also capped at 1 h after the send and before the thread's next send */
  spamRisk: [5 * SECOND, 55 * MINUTE],
  spamRiskMaxAfterSend: HOUR,
  /** Session: first response, then between responses. */
  firstResponse: [10 * SECOND, 5 * MINUTE],
  betweenResponses: [20 * SECOND, 8 * MINUTE],
  plusOneFollowUp: [24 * HOUR, 47 * HOUR],
  oneTimeNotification: [6 * HOUR, 60 * DAY],
  inSessionUtility: [1 * MINUTE, 6 * HOUR],
  /** Spontaneous opt_out: this long after max(thread end, last send + 72 h). */
  spontaneousOptOut: [1 * HOUR, 14 * DAY],
  /** A small share of engagements reach the stream late (their occurred_at is earlier than neighbours'). */
  lateEngagementShare: 0.02,
  lateEngagementDelay: [1 * SECOND, 10 * MINUTE],
} as const;

export const OUTPUT = {
  /** Share of events whose occurred_at is written as an epoch-ms integer instead of RFC 3339. */
  epochMsShare: 0.05,
  /** Revenue per conversion: log-normal with this sigma around the cell's mean, in cents, at least 1 cent. */
  revenueLogSigma: 0.6,
  /** Duplicates copy one of the last this-many valid lines (Kafka redeliveries are near the original). */
  duplicateWindow: 2048,
};

/** Message tags by era (topic of message_tag sends). The pre-2020 list is illustrative of the "longer list". */
export const TAGS = {
  before2020: [
    'BUSINESS_PRODUCTIVITY',
    'SHIPPING_UPDATE',
    'RESERVATION_UPDATE',
    'ISSUE_RESOLUTION',
    'APPOINTMENT_UPDATE',
    'PAYMENT_UPDATE',
    'ACCOUNT_UPDATE',
    'TICKET_UPDATE',
    'GAME_EVENT',
    'COMMUNITY_ALERT',
  ],
  after2020: ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'ACCOUNT_UPDATE', 'HUMAN_AGENT'],
  afterUtilityTakeover: ['CONFIRMED_EVENT_UPDATE', 'POST_PURCHASE_UPDATE', 'HUMAN_AGENT'],
} as const;

export const UTILITY_TOPICS = ['order_update', 'shipping_update', 'payment_update', 'account_update', 'appointment_reminder'] as const;

/** Subscription topics by business vertical. */
export const VERTICALS: { name: string; topics: string[] }[] = [
  { name: 'retail', topics: ['deals', 'new_arrivals', 'back_in_stock'] },
  { name: 'news', topics: ['headlines', 'sports', 'local_news'] },
  { name: 'travel', topics: ['fare_alerts', 'destination_ideas'] },
  { name: 'food', topics: ['daily_specials', 'recipes', 'delivery_offers'] },
  { name: 'finance', topics: ['market_update', 'tips'] },
  { name: 'beauty', topics: ['new_products', 'tutorials', 'offers'] },
  { name: 'entertainment', topics: ['releases', 'events', 'trivia'] },
  { name: 'fitness', topics: ['workouts', 'challenges'] },
];

export const REASONS = {
  opt_out: ['too_many_messages', 'not_relevant', 'no_longer_interested', 'other'],
  block: ['spam', 'other'],
  spam_report: ['spam', 'inappropriate', 'never_signed_up'],
  /** Share of spam-risk events with a null reason. */
  nullShare: 0.4,
} as const;
