// Prices per send. The only published figures we have are Meta's per-message rates from
// 2025-07-01 for four countries (a vendor copy of the rate card, docs.sent.dm, in domain.md);
// every earlier WhatsApp price and every Messenger price is an assumption derived from them.

export interface CountryRates {
  code: string;
  name: string;
  /** Share of simulated WhatsApp users in this country (assumption). */
  share: number;
  /** USD per message from 2025-07-01: marketing / utility / authentication (docs.sent.dm). */
  marketing: number;
  utility: number;
  authentication: number;
}

export const WHATSAPP_COUNTRIES: CountryRates[] = [
  { code: 'AR', name: 'Argentina', share: 0.35, marketing: 0.0618, utility: 0.0289, authentication: 0.0289 },
  { code: 'AU', name: 'Australia', share: 0.25, marketing: 0.0732, utility: 0.0113, authentication: 0.0113 },
  { code: 'AT', name: 'Austria', share: 0.15, marketing: 0.0592, utility: 0.0171, authentication: 0.0171 },
  { code: 'DZ', name: 'Algeria', share: 0.25, marketing: 0.0225, utility: 0.004, authentication: 0.004 },
];

/** Assumed ratios that turn the 2025 rate card into the earlier pricing models. */
export const PRICE_DERIVATION = {
  /** Before 2022-02-01: every template message (any category) at the utility rate. */
  templateMessageFromUtility: 1,
  /** Conversation pricing: a business-initiated conversation at 0.8 x the marketing rate. */
  businessInitiatedFromMarketing: 0.8,
  /** Conversation pricing: a user-initiated conversation at the utility rate. */
  userInitiatedFromUtility: 1,
  /** Category pricing: a service conversation at 0.5 x the utility rate (until service became free, 2024-11-01). */
  serviceFromUtility: 0.5,
  /** Length of a conversation / customer service window. */
  windowHours: 24,
  /** Share of businesses small enough to stay inside the free tier (1,000 conversations a month). */
  freeTierBusinessShare: 0.35,
};

/** Messenger/Instagram paid marketing messages: USD per send (assumption; no published figure found). */
export const MESSENGER_MARKETING_MESSAGE_USD = 0.01;

const micros = (usd: number): number => Math.round(usd * 1e4) * 100; // 4 decimals, as integer micro-dollars

export interface CountryPriceMicros {
  template: number;
  businessInitiated: number;
  userInitiated: number;
  marketing: number;
  utility: number;
  authentication: number;
  service: number;
}

export const COUNTRY_PRICES: CountryPriceMicros[] = WHATSAPP_COUNTRIES.map((c) => ({
  template: micros(c.utility * PRICE_DERIVATION.templateMessageFromUtility),
  businessInitiated: micros(c.marketing * PRICE_DERIVATION.businessInitiatedFromMarketing),
  userInitiated: micros(c.utility * PRICE_DERIVATION.userInitiatedFromUtility),
  marketing: micros(c.marketing),
  utility: micros(c.utility),
  authentication: micros(c.authentication),
  service: micros(c.utility * PRICE_DERIVATION.serviceFromUtility),
}));

export const MESSENGER_MARKETING_MESSAGE_MICROS = micros(MESSENGER_MARKETING_MESSAGE_USD);
