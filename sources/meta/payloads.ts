// Webhook bodies in Meta's shapes (docs/sources.md cites the source of each), for the simulator's webhook stream
// and for tests. Only the fields the mapping or a reader needs are filled in.
type Json = Record<string, unknown>;

export type MessagingObject = 'page' | 'instagram';

/** One Messenger or Instagram body: entries of messaging items, one entry per Page or account. */
export function messagingBody(object: MessagingObject, entries: { businessId: string; time: number; messaging: Json[] }[]): Json {
  return { object, entry: entries.map((e) => ({ id: e.businessId, time: e.time, messaging: e.messaging })) };
}

export function whatsappBody(entries: { businessId: string; changes: { field: string; value: Json }[] }[]): Json {
  return { object: 'whatsapp_business_account', entry: entries.map((e) => ({ id: e.businessId, changes: e.changes })) };
}

const pair = (from: string, to: string, timestamp: number): Json => ({ sender: { id: from }, recipient: { id: to }, timestamp });

export const echo = (page: string, user: string, at: number, mid: string, metadata?: string): Json => ({
  ...pair(page, user, at),
  message: { is_echo: true, app_id: 1517776481860111, mid, text: 'hello', ...(metadata !== undefined ? { metadata } : {}) },
});

/** Meta's examples of a delivery carry no timestamp; `at` adds one. */
export const delivery = (page: string, user: string, watermark: number, mids?: string[], at?: number): Json => ({
  sender: { id: user },
  recipient: { id: page },
  ...(at !== undefined ? { timestamp: at } : {}),
  delivery: { ...(mids ? { mids } : {}), watermark },
});

export const readWatermark = (page: string, user: string, at: number, watermark: number): Json => ({ ...pair(user, page, at), read: { watermark } });

/** Instagram's messaging_seen: one message by mid. */
export const seen = (account: string, user: string, at: number, mid: string): Json => ({ ...pair(user, account, at), read: { mid } });

export const quickReply = (page: string, user: string, at: number, mid: string, payload: string, replyTo?: string): Json => ({
  ...pair(user, page, at),
  message: { mid, text: 'yes', quick_reply: { payload }, ...(replyTo ? { reply_to: { mid: replyTo } } : {}) },
});

export const reply = (page: string, user: string, at: number, mid: string, replyTo: string): Json => ({
  ...pair(user, page, at),
  message: { mid, text: 'thanks', reply_to: { mid: replyTo } },
});

export const postback = (page: string, user: string, at: number, mid: string, payload: string): Json => ({
  ...pair(user, page, at),
  postback: { mid, title: 'Shop now', payload },
});

export interface OptinFields {
  payload?: string;
  frequency?: 'DAILY' | 'WEEKLY' | 'MONTHLY';
  /** `STOP NOTIFICATIONS` / `RESUME NOTIFICATIONS` as Meta's table writes them, or with an underscore. */
  status?: string;
  token?: string;
}

export const optin = (page: string, user: string, at: number, f: OptinFields): Json => ({
  ...pair(user, page, at),
  optin: {
    type: 'notification_messages',
    ...(f.payload !== undefined ? { payload: f.payload, title: f.payload } : {}),
    notification_messages_token: f.token ?? `tok-${user}`,
    ...(f.frequency ? { notification_messages_frequency: f.frequency } : {}),
    notification_messages_timezone: 'UTC',
    ...(f.status ? { notification_messages_status: f.status } : {}),
  },
});

const WA_METADATA = { display_phone_number: '15550783881', phone_number_id: '106540352242922' };

export interface StatusFields {
  pricingCategory?: string;
  callbackData?: string;
  errorCode?: number;
}

export const waStatus = (wamid: string, status: string, atMs: number, user: string, f: StatusFields = {}): Json => ({
  id: wamid,
  status,
  timestamp: String(Math.floor(atMs / 1000)),
  recipient_id: user,
  ...(f.callbackData !== undefined ? { biz_opaque_callback_data: f.callbackData } : {}),
  ...(f.pricingCategory !== undefined ? { pricing: { billable: true, pricing_model: 'PMP', type: 'regular', category: f.pricingCategory } } : {}),
  ...(f.errorCode !== undefined
    ? {
        errors: [{ code: f.errorCode, title: 'error', message: 'error', href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/' }],
      }
    : {}),
});

export const waMessage = (user: string, wamid: string, atMs: number, context: string | null, kind: 'text' | 'button' | 'interactive'): Json => ({
  ...(context ? { context: { from: WA_METADATA.display_phone_number, id: context } } : {}),
  from: user,
  id: wamid,
  timestamp: String(Math.floor(atMs / 1000)),
  type: kind,
  ...(kind === 'button' ? { button: { payload: 'yes', text: 'Yes' } } : {}),
  ...(kind === 'interactive' ? { interactive: { type: 'button_reply', button_reply: { id: 'yes', title: 'Yes' } } } : {}),
  ...(kind === 'text' ? { text: { body: 'thanks' } } : {}),
});

export const waMessagesChange = (value: { statuses?: Json[]; messages?: Json[] }): { field: string; value: Json } => ({
  field: 'messages',
  value: { messaging_product: 'whatsapp', metadata: WA_METADATA, ...value },
});

export const waPreferencesChange = (user: string, atMs: number, value: string): { field: string; value: Json } => ({
  field: 'user_preferences',
  value: {
    messaging_product: 'whatsapp',
    metadata: WA_METADATA,
    contacts: [{ wa_id: user }],
    user_preferences: [
      { wa_id: user, detail: 'User requested to stop marketing messages', category: 'marketing_messages', value, timestamp: Math.floor(atMs / 1000) },
    ],
  },
});
