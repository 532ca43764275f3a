// cost_usd of one send, in integer micro-dollars (so sums are exact in Decimal(18,6)).
// WhatsApp prices depend on the pricing model in force and on open conversation windows, so the
// cost of a send depends on what the same thread sent in the previous 24 hours.
import type { Channel, SendCategory } from '../events/types.js';
import { COUNTRY_PRICES, MESSENGER_MARKETING_MESSAGE_MICROS, PRICE_DERIVATION } from './params-prices.js';
import { POLICY_MS } from './policy-calendar.js';
import { HOUR } from './time.js';

const WINDOW = PRICE_DERIVATION.windowHours * HOUR;

/** Per-thread pricing state: when each open conversation ends, and the customer service window. */
export interface PricingState {
  /** Conversation window ends by slot: 0 marketing, 1 utility, 2 authentication, 3 service. Conversation pricing uses slot 0 for all. */
  convUntil: Float64Array;
  /** 24 h after the user's last message. */
  serviceWindowUntil: number;
}

function slotOf(category: SendCategory): number {
  switch (category) {
    case 'marketing_template':
      return 0;
    case 'utility_template':
      return 1;
    case 'authentication_template':
      return 2;
    default:
      return 3;
  }
}

export function sendCostMicros(channel: Channel, category: SendCategory, t: number, country: number, freeTier: boolean, state: PricingState | null): number {
  if (channel !== 'whatsapp') return category === 'marketing_message' ? MESSENGER_MARKETING_MESSAGE_MICROS : 0;
  const price = COUNTRY_PRICES[country];
  if (t < POLICY_MS.whatsappConversationPricing) {
    return category === 'service' ? 0 : price.template;
  }
  const s = state!;
  if (t < POLICY_MS.whatsappCategoryPricing) {
    // One 24-hour conversation at a time; the send that opens it pays.
    if (t < s.convUntil[0]) return 0;
    s.convUntil[0] = t + WINDOW;
    if (freeTier) return 0;
    return category === 'service' ? price.userInitiated : price.businessInitiated;
  }
  if (t < POLICY_MS.whatsappPerMessagePricing) {
    if (category === 'service' && (t >= POLICY_MS.whatsappServiceFree || freeTier)) return 0;
    const slot = slotOf(category);
    if (t < s.convUntil[slot]) return 0;
    s.convUntil[slot] = t + WINDOW;
    switch (slot) {
      case 0:
        return price.marketing;
      case 1:
        return price.utility;
      case 2:
        return price.authentication;
      default:
        return price.service;
    }
  }
  switch (category) {
    case 'marketing_template':
      return price.marketing;
    case 'authentication_template':
      return price.authentication;
    case 'utility_template':
      return t < s.serviceWindowUntil ? 0 : price.utility;
    default:
      return 0;
  }
}

/** How a cell's cost_usd arises, in words, for the truth file (the per-send amount is not a constant). */
export function costModelOf(channel: Channel, category: SendCategory, regime: string): string {
  if (channel !== 'whatsapp') return category === 'marketing_message' ? 'flat USD per send (messengerMarketingMessageUsd)' : 'free';
  if (category === 'service') {
    if (regime === 'whatsapp_conversation_pricing')
      return 'opens a user-initiated 24 h conversation at the country userInitiated price unless one is open; free for free-tier businesses';
    if (regime === 'whatsapp_category_pricing')
      return 'opens a 24 h service conversation at the country service price unless one is open; free for free-tier businesses and from 2024-11-01';
    return 'free';
  }
  switch (regime) {
    case 'whatsapp_template_pricing':
      return 'every template message at the country template price';
    case 'whatsapp_conversation_pricing':
      return 'opens a business-initiated 24 h conversation at the country businessInitiated price unless one is open; free for free-tier businesses';
    case 'whatsapp_category_pricing':
      return 'opens a 24 h conversation of its category at the country rate unless one of that category is open';
    default:
      return category === 'utility_template'
        ? 'per message at the country utility rate; free inside the 24 h customer service window'
        : 'per message at the country rate';
  }
}
