// Messenger (`object: page`) and Instagram (`object: instagram`) messaging events to contract events. The rules,
// with the field each reads, are in docs/sources.md; this file follows its order.
import { FREQUENCIES, type Channel, type Frequency } from '../../events/types.js';
import type { Emitter } from './emit.js';
import { oneOf, readLabels } from './labels.js';
import { idOf, isRecord, nonEmptyString, type Party, type ResultBuilder } from './result.js';
import { ThreadBook, type CoveredSend } from './threads.js';

export interface MessagingContext {
  channel: Channel;
  /** The entry's id: the Page id, or the Instagram account id. */
  businessId: string;
  /** When nothing in the item says when it happened. */
  fallbackAt: number | null;
  book: ThreadBook;
  emit: Emitter;
  out: ResultBuilder;
}

/** Keys of a messaging item that are its envelope, not its kind. */
const ENVELOPE = new Set(['sender', 'recipient', 'timestamp']);

const normaliseStatus = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
        .trim()
        .toUpperCase()
        .replace(/[\s-]+/g, '_')
    : null;

/** Meta writes DAILY, WEEKLY, MONTHLY. */
const frequencyOf = (v: unknown): Frequency | null => oneOf(FREQUENCIES, typeof v === 'string' ? v.toLowerCase() : null);

export function mapMessagingItem(item: unknown, path: string, ctx: MessagingContext) {
  const { out, channel } = ctx;
  if (!isRecord(item)) return out.problem('unmappable', path, 'a messaging item must be an object');
  const kind = Object.keys(item).find((k) => !ENVELOPE.has(k)) ?? 'none';
  const handled = kind === 'message' || kind === 'delivery' || kind === 'read' || kind === 'postback' || kind === 'optin';
  if (!handled) return out.ignore(`${channel}:${kind}`); // policy_enforcement, reaction, referral, ... and what comes next
  for (const k of Object.keys(item)) if (k !== kind && !ENVELOPE.has(k)) out.ignore(`${channel}:field:${k}`);

  const echo = kind === 'message' && isRecord(item.message) && item.message.is_echo === true;
  // The user is the recipient of what the business sent, and the sender of everything else.
  const who = echo ? item.recipient : item.sender;
  const user = isRecord(who) ? idOf(who.id) : null;
  if (user === null) return out.problem('unmappable', `${path}.${echo ? 'recipient' : 'sender'}.id`, 'is required');
  const party: Party = { channel, business_id: ctx.businessId, user_id: user };
  const key = ThreadBook.key(channel, ctx.businessId, user);
  // Milliseconds; Meta's own examples write it as a string, so digits in a string are read too.
  const raw = typeof item.timestamp === 'string' && /^\d{1,15}$/.test(item.timestamp) ? Number(item.timestamp) : item.timestamp;
  const stamped = typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : null;
  const at = stamped ?? ctx.fallbackAt;
  const body = item[kind];
  if (!isRecord(body)) return out.problem('unmappable', `${path}.${kind}`, 'must be an object');
  const receipts = (covered: CoveredSend[]): void => {
    for (const c of covered) ctx.emit.receipt(party, c.mid, c.type, c.at, path);
  };

  switch (kind) {
    case 'message': {
      if (!nonEmptyString(body.mid)) return out.problem('unmappable', `${path}.message.mid`, 'is required');
      if (at === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
      if (echo) {
        const labels = readLabels(body.metadata);
        ctx.emit.send(party, body.mid, at, labels.category ?? 'unknown', labels, path);
        return receipts(ctx.book.addSend(key, body.mid, at));
      }
      const replyTo = isRecord(body.reply_to) && nonEmptyString(body.reply_to.mid) ? body.reply_to.mid : null;
      if (isRecord(body.quick_reply)) {
        const named = replyTo ?? readLabels(body.quick_reply.payload).send ?? ctx.book.latestSendAt(key, at)?.mid ?? null;
        if (named === null) return out.ignore(`${channel}:quick_reply_without_send`);
        return ctx.emit.response(party, body.mid, named, 'clicked', at, path);
      }
      if (replyTo !== null) return ctx.emit.response(party, body.mid, replyTo, 'replied', at, path);
      return out.ignore(`${channel}:message_without_reply_to`);
    }
    case 'postback': {
      if (at === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
      const named = readLabels(body.payload).send ?? ctx.book.latestSendAt(key, at)?.mid ?? null;
      if (named === null) return out.ignore(`${channel}:postback_without_send`);
      // Before API v11 a postback had no mid; who, when and what then identify it.
      const id = nonEmptyString(body.mid) ? body.mid : `${user}|${at}|${String(body.payload ?? body.title ?? '')}`;
      return ctx.emit.response(party, id, named, 'clicked', at, path);
    }
    case 'delivery': {
      const watermark = typeof body.watermark === 'number' ? body.watermark : null;
      const mids = Array.isArray(body.mids) ? body.mids.filter(nonEmptyString) : [];
      const when = stamped ?? watermark ?? ctx.fallbackAt;
      if (when === null) return out.problem('unmappable', `${path}.delivery.watermark`, 'is required');
      if (mids.length > 0) {
        // The mids name the messages delivered; the watermark is read only when they are absent (docs/sources.md).
        for (const mid of mids) {
          ctx.book.markReceipt(key, mid, 'delivered');
          ctx.emit.receipt(party, mid, 'delivered', when, path);
        }
        return;
      }
      if (watermark === null) return out.problem('unmappable', `${path}.delivery.watermark`, 'is required without mids');
      return receipts(ctx.book.addWatermark(key, 'delivered', watermark, when));
    }
    case 'read': {
      if (nonEmptyString(body.mid)) {
        // Instagram's messaging_seen: one message; a read implies its delivery.
        const when = at;
        if (when === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
        ctx.book.markReceipt(key, body.mid, 'read');
        ctx.emit.receipt(party, body.mid, 'delivered', when, path);
        return ctx.emit.receipt(party, body.mid, 'read', when, path);
      }
      const watermark = typeof body.watermark === 'number' ? body.watermark : null;
      if (watermark === null) return out.problem('unmappable', `${path}.read`, 'needs a watermark or a mid');
      return receipts(ctx.book.addWatermark(key, 'read', watermark, stamped ?? watermark));
    }
    case 'optin': {
      if (at === null) return out.problem('unmappable', `${path}.timestamp`, 'is required');
      const status = normaliseStatus(body.notification_messages_status);
      const token = typeof body.notification_messages_token === 'string' ? body.notification_messages_token : '';
      const topic = nonEmptyString(body.payload) ? body.payload : nonEmptyString(body.title) ? body.title : null;
      if (status === 'STOP_NOTIFICATIONS') return ctx.emit.subscription(party, 'opt_out', at, [token], { topic }, path);
      const frequency = frequencyOf(body.notification_messages_frequency);
      if (status === 'RESUME_NOTIFICATIONS') return ctx.emit.subscription(party, 'opt_in', at, [token], { topic, frequency }, path);
      if (status !== null) return out.ignore(`${channel}:optin_status:${status}`);
      if (body.type !== 'notification_messages') return out.ignore(`${channel}:optin:${String(body.type ?? 'none')}`);
      return ctx.emit.subscription(party, 'opt_in', at, [token], { topic, frequency }, path);
    }
  }
}
