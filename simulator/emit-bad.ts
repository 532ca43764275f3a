// Lines the contract must reject. Each starts from a plausible valid event and breaks exactly one
// rule (the oversized line also carries an unknown field, since every known field has a length
// limit), so a validator's rejection reasons can be checked kind by kind. The first bad lines
// cover every kind once, in a shuffled order; later ones are drawn at random, the 66 KB kind rarely.
import { MAX_EVENT_BYTES } from '../events/types.js';
import type { Rng } from './rng.js';
import { BAD_KINDS, type BadKind } from './truth.js';

/** Relative weights after the first full pass; the oversized line is expensive in bytes. */
const WEIGHTS: Record<BadKind, number> = Object.fromEntries(BAD_KINDS.map((k) => [k, k === 'oversized' ? 0.1 : 1])) as Record<BadKind, number>;
const CUMULATIVE = (() => {
  let sum = 0;
  return BAD_KINDS.map((k) => (sum += WEIGHTS[k]));
})();

type Json = Record<string, unknown>;

export interface BadLine {
  line: string;
  key: string;
  kind: BadKind;
}

export class BadLineMaker {
  private made = 0;
  private readonly firstPass: BadKind[];
  private readonly rng: Rng;
  private readonly idPrefix: string;

  constructor(rng: Rng, idPrefix: string) {
    this.rng = rng;
    this.idPrefix = idPrefix;
    this.firstPass = [...BAD_KINDS];
    for (let i = this.firstPass.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      [this.firstPass[i], this.firstPass[j]] = [this.firstPass[j], this.firstPass[i]];
    }
  }

  make(t: number, businessId: string, userId: string): BadLine {
    const rng = this.rng;
    const kind = this.made < this.firstPass.length ? this.firstPass[this.made] : BAD_KINDS[rng.pickCumulative(CUMULATIVE)];
    const id = `x${this.idPrefix}-${(this.made++).toString(36)}`;
    const iso = new Date(t).toISOString();
    const common = { event_id: id, occurred_at: iso, business_id: businessId, user_id: userId, channel: rng.pick(['messenger', 'instagram', 'whatsapp']) };
    const send = (): Json => ({
      ...common,
      type: 'send',
      category: 'message_tag',
      frequency: null,
      topic: 'POST_PURCHASE_UPDATE',
      campaign_id: null,
      cost_usd: 0,
    });
    const recurring = (): Json => ({
      ...common,
      channel: 'messenger',
      type: 'send',
      category: 'recurring_notification',
      frequency: 'weekly',
      topic: 'deals',
      campaign_id: 'c-bad',
      cost_usd: 0,
    });
    const engagement = (type = 'read'): Json => ({ ...common, type, send_id: `s${this.idPrefix}-0` });
    const optIn = (): Json => ({ ...common, type: 'opt_in', topic: 'deals', frequency: 'daily', reason: null });
    const anyValid = (): Json => rng.pick([send, recurring, () => engagement(), optIn])();
    const text = (o: unknown): string => JSON.stringify(o);

    let line: string;
    switch (kind) {
      case 'not_json':
        line = rng.pick([
          `event_id=${id} type=send channel=whatsapp`,
          `{'event_id': '${id}', 'type': 'send'}`,
          `<event id="${id}" type="send"/>`,
          `${id},send,${iso},${businessId},${userId}`,
          `{event_id: "${id}"}`,
        ]);
        break;
      case 'truncated_json': {
        const full = text(anyValid());
        line = full.slice(0, 1 + rng.below(full.length - 1));
        break;
      }
      case 'json_array':
        line = rng.chance(0.5) ? `[${text(anyValid())}]` : '[1,2,3]';
        break;
      case 'json_scalar':
        line = rng.pick(['42', '"send"', 'null', 'true', '3.14']);
        break;
      case 'missing_field': {
        const which = rng.below(3);
        const o = which === 0 ? send() : which === 1 ? engagement() : optIn();
        const required = [
          'event_id',
          'occurred_at',
          'business_id',
          'user_id',
          'channel',
          'type',
          ...(which === 0 ? ['category'] : which === 1 ? ['send_id'] : []),
        ];
        delete o[rng.pick(required)];
        line = text(o);
        break;
      }
      case 'wrong_type':
        line = text(
          rng.pick<() => Json>([
            () => ({ ...send(), cost_usd: '0.0100' }),
            () => ({ ...send(), occurred_at: true }),
            () => ({ ...optIn(), user_id: 12345 }),
            () => ({ ...engagement(), send_id: 678 }),
            () => ({ ...engagement('converted'), revenue_usd: '12.50' }),
            () => ({ ...send(), event_id: 99 }),
          ])(),
        );
        break;
      case 'unknown_type':
        line = text({ ...engagement(), type: rng.pick(['click', 'unsubscribe', 'sent', 'DELIVERED']) });
        break;
      case 'unknown_channel':
        line = text({ ...send(), channel: rng.pick(['telegram', 'sms', 'email', 'Messenger']) });
        break;
      case 'bad_frequency_enum':
        line = text(rng.chance(0.5) ? { ...recurring(), frequency: rng.pick(['hourly', 'biweekly', 'Daily']) } : { ...optIn(), frequency: 'hourly' });
        break;
      case 'frequency_on_opt_out':
        line = text({ ...optIn(), type: rng.chance(0.5) ? 'opt_out' : 'block', frequency: 'weekly' });
        break;
      case 'frequency_on_non_recurring':
        line = text({ ...send(), frequency: 'weekly' });
        break;
      case 'unknown_category':
        line = text({ ...send(), category: rng.chance(0.5) ? 'promotion' : 'Marketing_Template' });
        break;
      case 'revenue_on_non_converted':
        line = text({ ...engagement(rng.pick(['read', 'clicked', 'delivered'])), revenue_usd: 12.5 });
        break;
      case 'timestamp_before_2010':
        line = text({ ...anyValid(), occurred_at: rng.pick<string | number>(['2009-12-31T23:59:59.999Z', '1999-06-01T12:00:00.000Z', 1199145600000, 0]) });
        break;
      case 'timestamp_far_future':
        line = text({ ...anyValid(), occurred_at: rng.pick<string | number>(['2099-01-01T00:00:00.000Z', 4102444800000]) });
        break;
      case 'timestamp_without_offset':
        line = text({ ...anyValid(), occurred_at: rng.pick([iso.slice(0, 19), iso.slice(0, 10), iso.replace('T', ' ').slice(0, 19), String(t)]) });
        break;
      case 'negative_cost':
        line = text(rng.chance(0.7) ? { ...send(), cost_usd: -0.0123 } : { ...engagement('converted'), revenue_usd: -5 });
        break;
      case 'event_id_too_long':
        line = text({ ...anyValid(), event_id: `${id}-${'z'.repeat(65 + rng.below(60))}` });
        break;
      case 'event_id_empty':
        line = text({ ...anyValid(), event_id: '' });
        break;
      case 'oversized':
        line = text({ ...send(), note: 'x'.repeat(MAX_EVENT_BYTES + 64 + rng.below(1024)) });
        break;
    }
    return { line, key: userId, kind };
  }
}
