// Event ids of mapped webhooks: a hash of what identifies the fact, so a retried, fanned-out or replayed webhook
// maps to the same id and the warehouse's duplicate check drops it (docs/sources.md, "Event ids").
import { createHash } from 'node:crypto';
import type { EngagementType } from '../../events/types.js';

// 32 hex characters (128 bits) after a short prefix keep every id well under the contract's 64.
const digest = (parts: readonly string[]): string => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

/**
 * The send a message id (Messenger/Instagram `mid`, WhatsApp `wamid`) stands for. A business that posts its own
 * events about such a send (a conversion, say) uses this id as their `send_id`.
 */
export const sendEventId = (messageId: string): string => `meta-s-${digest(['send', messageId])}`;

/**
 * delivered or read of one send: one id per send and type, whether it came from a status, a `mids` list or a
 * watermark, so the routes that report the same fact agree.
 */
export const receiptEventId = (sendMessageId: string, type: 'delivered' | 'read'): string => `meta-e-${digest([type, sendMessageId])}`;

/** clicked or replied: one per inbound message (its own mid or wamid) and type. */
export const responseEventId = (inboundId: string, type: EngagementType): string => `meta-e-${digest([type, inboundId])}`;

/** An opt-in or opt-out has no message id; what identifies it is who, where, when and what. */
export const subscriptionEventId = (parts: readonly string[]): string => `meta-o-${digest(['subscription', ...parts])}`;
