// WhatsApp Cloud API (`object: whatsapp_business_account`) changes to contract events. The rules, with the field
// each reads, are in docs/sources.md. Times are Unix seconds here (a string on statuses and messages).
import type { Emitter } from './emit.js';
import { readLabels, whatsappPricingCategory } from './labels.js';
import { idOf, isRecord, nonEmptyString, type Party, type ResultBuilder } from './result.js';

export interface WhatsAppContext {
  /** The entry's id: the WhatsApp Business Account id. */
  businessId: string;
  fallbackAt: number | null;
  emit: Emitter;
  out: ResultBuilder;
}

/** The error code of a failed status meaning "the user stopped marketing messages". */
export const WHATSAPP_STOPPED_MARKETING = 131050;

/** Keys of a `messages` change value the mapping reads or knowingly passes over. */
const MESSAGES_VALUE_KEYS = new Set(['messaging_product', 'metadata', 'contacts', 'statuses', 'messages', 'errors']);

function secondsToMs(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
  return n === null ? null : n * 1000;
}

export function mapWhatsAppChange(change: unknown, path: string, ctx: WhatsAppContext) {
  const { out } = ctx;
  if (!isRecord(change) || !nonEmptyString(change.field)) return out.problem('unmappable', `${path}.field`, 'is required');
  const value = change.value;
  if (change.field !== 'messages' && change.field !== 'user_preferences') return out.ignore(`whatsapp:${change.field}`);
  if (!isRecord(value)) return out.problem('unmappable', `${path}.value`, 'must be an object');
  if (change.field === 'user_preferences') {
    const list = Array.isArray(value.user_preferences) ? value.user_preferences : [];
    list.forEach((p, i) => {
      userPreference(p, `${path}.value.user_preferences[${i}]`, ctx);
    });
    return;
  }
  for (const k of Object.keys(value)) if (!MESSAGES_VALUE_KEYS.has(k)) out.ignore(`whatsapp:messages:field:${k}`);
  if (Array.isArray(value.errors)) out.ignore('whatsapp:errors');
  if (Array.isArray(value.statuses))
    value.statuses.forEach((s, i) => {
      status(s, `${path}.value.statuses[${i}]`, ctx);
    });
  if (Array.isArray(value.messages))
    value.messages.forEach((m, i) => {
      inbound(m, `${path}.value.messages[${i}]`, ctx);
    });
}

function status(s: unknown, path: string, ctx: WhatsAppContext) {
  const { out, emit } = ctx;
  if (!isRecord(s)) return out.problem('unmappable', path, 'a status must be an object');
  if (!nonEmptyString(s.id)) return out.problem('unmappable', `${path}.id`, 'is required');
  if (!nonEmptyString(s.status)) return out.problem('unmappable', `${path}.status`, 'is required');
  // Sends to a business-scoped user id carry recipient_user_id instead of the phone number.
  const user = idOf(s.recipient_id) ?? idOf(s.recipient_user_id);
  if (user === null) return out.problem('unmappable', `${path}.recipient_id`, 'is required (or recipient_user_id)');
  const at = secondsToMs(s.timestamp) ?? ctx.fallbackAt;
  if (at === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
  const party: Party = { channel: 'whatsapp', business_id: ctx.businessId, user_id: user };
  const labels = readLabels(s.biz_opaque_callback_data);
  const pricing = isRecord(s.pricing) ? s.pricing : null;
  const priced = pricing ? whatsappPricingCategory(pricing.category) : null;
  if (pricing && pricing.category !== undefined && priced === null) out.ignore(`whatsapp:pricing_category:${String(pricing.category)}`);
  const category = labels.category ?? priced;

  switch (s.status) {
    case 'sent':
      return emit.send(party, s.id, at, category ?? 'unknown', labels, path);
    case 'delivered':
    case 'read':
    case 'played':
      // A status with pricing names the send even when its `sent` never came (docs/sources.md).
      if (pricing && category !== null) emit.send(party, s.id, at, category, labels, path);
      emit.receipt(party, s.id, 'delivered', at, path);
      if (s.status !== 'delivered') emit.receipt(party, s.id, 'read', at, path);
      return;
    case 'failed': {
      const codes = Array.isArray(s.errors) ? s.errors.map((e) => (isRecord(e) ? e.code : undefined)) : [];
      if (codes.includes(WHATSAPP_STOPPED_MARKETING)) {
        emit.subscription(party, 'opt_out', at, [s.id], { reason: `whatsapp error ${WHATSAPP_STOPPED_MARKETING}: user stopped marketing messages` }, path);
      }
      for (const c of codes) if (c !== WHATSAPP_STOPPED_MARKETING) out.ignore(`whatsapp:failed:${String(c)}`);
      return;
    }
    default:
      return out.ignore(`whatsapp:status:${s.status}`);
  }
}

function inbound(m: unknown, path: string, ctx: WhatsAppContext) {
  const { out, emit } = ctx;
  if (!isRecord(m)) return out.problem('unmappable', path, 'a message must be an object');
  const replyTo = isRecord(m.context) && nonEmptyString(m.context.id) ? m.context.id : null;
  if (replyTo === null) return out.ignore(`whatsapp:message_without_context:${String(m.type ?? 'none')}`);
  if (!nonEmptyString(m.id)) return out.problem('unmappable', `${path}.id`, 'is required');
  const user = idOf(m.from) ?? idOf(m.from_user_id);
  if (user === null) return out.problem('unmappable', `${path}.from`, 'is required (or from_user_id)');
  const at = secondsToMs(m.timestamp) ?? ctx.fallbackAt;
  if (at === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
  const party: Party = { channel: 'whatsapp', business_id: ctx.businessId, user_id: user };
  // A template quick-reply button or an interactive reply is a click on the message it came with.
  const type = m.type === 'button' || m.type === 'interactive' ? 'clicked' : 'replied';
  emit.response(party, m.id, replyTo, type, at, path);
}

function userPreference(p: unknown, path: string, ctx: WhatsAppContext) {
  const { out, emit } = ctx;
  if (!isRecord(p)) return out.problem('unmappable', path, 'a user preference must be an object');
  if (p.category !== 'marketing_messages') return out.ignore(`whatsapp:user_preferences:${String(p.category)}`);
  const user = idOf(p.wa_id) ?? idOf(p.user_id);
  if (user === null) return out.problem('unmappable', `${path}.wa_id`, 'is required');
  const at = secondsToMs(p.timestamp) ?? ctx.fallbackAt;
  if (at === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
  const party: Party = { channel: 'whatsapp', business_id: ctx.businessId, user_id: user };
  const value = typeof p.value === 'string' ? p.value.toLowerCase() : '';
  if (value === 'stop') return emit.subscription(party, 'opt_out', at, [value], {}, path);
  if (value === 'resume' || value === 'signup') return emit.subscription(party, 'opt_in', at, [value], {}, path);
  return out.ignore(`whatsapp:user_preferences:value:${value || 'none'}`);
}
