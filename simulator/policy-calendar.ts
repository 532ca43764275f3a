// The dates on which the simulated world changes its behaviour. Every regime boundary in
// warehouse/regimes.json appears here (a test checks it); the remaining dates are policy details
// that do not start a regime but still move prices or what businesses may send.
import { dayMs } from './time.js';

export const POLICY_DATES = {
  /** Messenger/Instagram: 24+1 ends, four message tags remain, One-Time Notification available. */
  end24Plus1: '2020-03-04',
  /** Recurring Notifications (daily, weekly, monthly) launch. */
  recurringLaunch: '2022-05-19',
  /** New weekly/monthly opt-ins withdrawn; existing tokens keep working until they expire. */
  weeklyMonthlyWithdrawn: '2023-01-31',
  /** Paid Marketing Messages on Messenger (and Instagram). */
  paidMarketingMessages: '2025-07-01',
  /** Per-subscriber cooldown between marketing messages rises from 24 h to 48 h. */
  marketingCooldown48h: '2025-09-01',
  /** Recurring (old marketing) messages deprecated; ACCOUNT_UPDATE tag gone; utility messages take over. */
  utilityTakeover: '2026-02-10',
  /** WhatsApp conversation-based pricing (24-hour conversations). */
  whatsappConversationPricing: '2022-02-01',
  /** WhatsApp: four conversation categories priced separately. */
  whatsappCategoryPricing: '2023-06-01',
  /** WhatsApp service conversations free. */
  whatsappServiceFree: '2024-11-01',
  /** WhatsApp per-message pricing; utility templates free inside an open service window. */
  whatsappPerMessagePricing: '2025-07-01',
} as const;

export type PolicyDate = keyof typeof POLICY_DATES;

export const POLICY_MS: Record<PolicyDate, number> = Object.fromEntries(Object.entries(POLICY_DATES).map(([k, v]) => [k, dayMs(v)])) as Record<
  PolicyDate,
  number
>;
