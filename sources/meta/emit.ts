// Builders of the contract events the mapping emits; each event is validated before it counts, so a mapped event
// the contract refuses (a campaign label over 128 characters, say) makes its body a dead letter, not a bad row.
import type { EngagementType, Frequency, PolicyEvent, SendCategory, SubscriptionType } from '../../events/types.js';
import { formatRejection, validateEvent } from '../../events/validate.js';
import { receiptEventId, responseEventId, sendEventId, subscriptionEventId } from './ids.js';
import type { Party, ResultBuilder } from './result.js';
import type { SendLabels } from './labels.js';

export class Emitter {
  private readonly out: ResultBuilder;
  /** Bounds occurred_at as the ingest will: the receipt time of the body, so a replay judges the same. */
  private readonly now: number;

  constructor(out: ResultBuilder, now: number) {
    this.out = out;
    this.now = now;
  }

  private emit(event: PolicyEvent, path: string): void {
    const v = validateEvent(event, this.now);
    if (v.ok) this.out.events.push(event);
    else this.out.problem('contract', path, formatRejection(v.rejection));
  }

  send(p: Party, mid: string, at: number, category: SendCategory, labels: SendLabels, path: string): void {
    this.emit(
      {
        event_id: sendEventId(mid),
        type: 'send',
        occurred_at: at,
        ...p,
        category,
        frequency: category === 'recurring_notification' ? labels.frequency : null,
        topic: labels.topic,
        campaign_id: labels.campaign,
      },
      path,
    );
  }

  receipt(p: Party, sendMid: string, type: 'delivered' | 'read', at: number, path: string): void {
    this.emit({ event_id: receiptEventId(sendMid, type), type, occurred_at: at, ...p, send_id: sendEventId(sendMid) }, path);
  }

  response(p: Party, inboundId: string, sendMid: string, type: EngagementType, at: number, path: string): void {
    this.emit({ event_id: responseEventId(inboundId, type), type, occurred_at: at, ...p, send_id: sendEventId(sendMid) }, path);
  }

  subscription(
    p: Party,
    type: SubscriptionType,
    at: number,
    identity: readonly string[],
    fields: { topic?: string | null; frequency?: Frequency | null; reason?: string | null },
    path: string,
  ): void {
    this.emit(
      {
        event_id: subscriptionEventId([p.channel, p.business_id, p.user_id, String(at), type, ...identity]),
        type,
        occurred_at: at,
        ...p,
        topic: fields.topic ?? null,
        frequency: fields.frequency ?? null,
        reason: fields.reason ?? null,
      },
      path,
    );
  }
}
