// What the business says about its own send, carried through Meta and back: the Send API's `metadata` (echoed on
// Messenger and Instagram) and WhatsApp's `biz_opaque_callback_data` (echoed on every status), and the payload of
// a button it built. A value in the `pl:` form (docs/sources.md) is read field by field; any other value is the
// campaign, as most businesses use these fields.
import { FREQUENCIES, SEND_CATEGORIES, type Frequency, type SendCategory } from '../../events/types.js';

export const LABEL_PREFIX = 'pl:';

export interface SendLabels {
  category: SendCategory | null;
  frequency: Frequency | null;
  topic: string | null;
  campaign: string | null;
  /** On a button payload: the mid or wamid of the message that carried the button. */
  send: string | null;
}

const NONE: SendLabels = { category: null, frequency: null, topic: null, campaign: null, send: null };

/** `v` when it is one of `allowed`, else null. */
export const oneOf = <T extends string>(allowed: readonly T[], v: string | null): T | null =>
  v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : null;

export function readLabels(value: unknown): SendLabels {
  if (typeof value !== 'string' || value === '') return NONE;
  if (!value.startsWith(LABEL_PREFIX)) return { ...NONE, campaign: value };
  const q = new URLSearchParams(value.slice(LABEL_PREFIX.length));
  return {
    category: oneOf(SEND_CATEGORIES, q.get('category')),
    frequency: oneOf(FREQUENCIES, q.get('frequency')),
    topic: q.get('topic'),
    campaign: q.get('campaign'),
    send: q.get('send'),
  };
}

/** The `pl:` form of labels, for a business (and the simulator) to put in `metadata` or a button payload. */
export function writeLabels(labels: Partial<SendLabels>): string {
  const q = new URLSearchParams();
  for (const key of ['category', 'frequency', 'topic', 'campaign', 'send'] as const) {
    const v = labels[key];
    if (v !== null && v !== undefined) q.set(key, v);
  }
  return `${LABEL_PREFIX}${q.toString()}`;
}

/**
 * WhatsApp's `pricing.category` to the contract's send category. Meta's list grows (marketing_lite,
 * referral_conversion, ...); a value not listed here maps to none and is counted.
 */
const WHATSAPP_PRICING: Record<string, SendCategory> = {
  marketing: 'marketing_template',
  marketing_lite: 'marketing_template',
  utility: 'utility_template',
  authentication: 'authentication_template',
  authentication_international: 'authentication_template',
  service: 'service',
  referral_conversion: 'service',
};

export const whatsappPricingCategory = (category: unknown): SendCategory | null =>
  typeof category === 'string' ? (WHATSAPP_PRICING[category.toLowerCase()] ?? null) : null;

/** The contract category back to WhatsApp's pricing category, for the simulator's statuses. */
export function pricingCategoryOf(category: SendCategory): string | null {
  for (const [pricing, c] of Object.entries(WHATSAPP_PRICING)) if (c === category) return pricing;
  return null;
}
