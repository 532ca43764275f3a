// The simulated world as Meta would report it: each valid event of the simulator becomes the webhook item Meta
// would post for it, batched into signed POST bodies, or, when no webhook carries it (conversions, blocks, spam
// reports), a line of the business's own log. docs/sources.md says what is lost on the way (cost, Instagram
// deliveries, opt-out reasons) and what the watermark rule adds.
import type { Channel, EventType, Frequency, SendCategory } from '../../events/types.js';
import { createSimulation, type SimulateOptions, type Truth } from '../../simulator/index.js';
import { sendEventId } from './ids.js';
import { pricingCategoryOf, writeLabels } from './labels.js';
import {
  delivery,
  echo,
  messagingBody,
  optin,
  postback,
  readWatermark,
  reply,
  seen,
  waMessage,
  waMessagesChange,
  waPreferencesChange,
  waStatus,
  whatsappBody,
} from './payloads.js';
import { SIGNATURE_HEADER, signBody } from './signature.js';

type Json = Record<string, unknown>;

/** One POST as Meta would make it: the headers that matter and the body, byte for byte as a string. */
export interface SimulatedPost {
  headers: Record<string, string>;
  body: string;
}

export type SimulatedOutput = { kind: 'webhook'; post: SimulatedPost } | { kind: 'sendlog'; line: string };

export interface MetaSimulationOptions extends SimulateOptions {
  /** Key of X-Hub-Signature-256. */
  appSecret: string;
  /** Items per POST body at most (Meta batches up to 1,000); default 10. */
  batchItems?: number;
}

interface SimEvent {
  event_id: string;
  type: EventType;
  occurred_at: string | number;
  business_id: string;
  user_id: string;
  channel: Channel;
  category?: SendCategory;
  frequency?: Frequency | null;
  topic?: string | null;
  campaign_id?: string | null;
  send_id?: string;
}

interface KnownSend {
  mid: string;
  at: number;
}

/** The message id Meta would give a simulated send. */
export const simulatedMid = (channel: Channel, eventId: string): string => (channel === 'whatsapp' ? `wamid.${eventId}` : `m_${eventId}`);

const OBJECT_OF: Record<Channel, 'page' | 'instagram' | 'whatsapp_business_account'> = {
  messenger: 'page',
  instagram: 'instagram',
  whatsapp: 'whatsapp_business_account',
};

/** A fixed choice per event (both spellings of stop, both WhatsApp opt-out routes), the same for a repeated line. */
const odd = (id: string): boolean => (id.charCodeAt(id.length - 1) & 1) === 1;

type Item =
  | { object: 'page' | 'instagram'; businessId: string; at: number; item: Json }
  | { object: 'whatsapp_business_account'; businessId: string; change: { field: string; value: Json } };

export class MetaWebhookWriter {
  private readonly sends = new Map<string, KnownSend>();
  private readonly batches = new Map<string, Item[]>();
  private readonly appSecret: string;
  private readonly batchItems: number;

  constructor(appSecret: string, batchItems = 10) {
    this.appSecret = appSecret;
    this.batchItems = batchItems;
  }

  /** The outputs one contract event line becomes (none while a body is still filling up). */
  *event(line: string): Generator<SimulatedOutput> {
    const e = JSON.parse(line) as SimEvent;
    const at = typeof e.occurred_at === 'number' ? e.occurred_at : Date.parse(e.occurred_at);
    const item = this.itemOf(e, at);
    if (item === null) {
      yield { kind: 'sendlog', line: this.sendLogLine(e) };
      return;
    }
    if (item === 'none') return;
    const batch = this.batches.get(item.object) ?? [];
    batch.push(item);
    this.batches.set(item.object, batch);
    if (batch.length >= this.batchItems) yield this.flush(item.object);
  }

  /** The bodies still filling up. */
  *end(): Generator<SimulatedOutput> {
    for (const object of [...this.batches.keys()]) if (this.batches.get(object)?.length) yield this.flush(object);
  }

  private flush(object: string): SimulatedOutput {
    const items = this.batches.get(object) ?? [];
    this.batches.set(object, []);
    const body =
      object === 'whatsapp_business_account'
        ? whatsappBody(items.map((i) => ({ businessId: i.businessId, changes: 'change' in i ? [i.change] : [] })))
        : messagingBody(
            object as 'page' | 'instagram',
            items.map((i) => ({ businessId: i.businessId, time: 'at' in i ? i.at : 0, messaging: 'item' in i ? [i.item] : [] })),
          );
    const text = JSON.stringify(body);
    return { kind: 'webhook', post: { headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signBody(text, this.appSecret) }, body: text } };
  }

  /** The send log carries what no webhook does; an engagement there names the send by the mapping's id. */
  private sendLogLine(e: SimEvent): string {
    if (e.send_id === undefined) return JSON.stringify(e);
    const send = this.sends.get(e.send_id);
    if (!send) throw new Error(`simulated ${e.type} ${e.event_id} names an unknown send ${e.send_id}`);
    return JSON.stringify({ ...e, send_id: sendEventId(send.mid) });
  }

  /** The webhook item for an event; null when only the send log has it; 'none' when nobody reports it. */
  private itemOf(e: SimEvent, at: number): Item | null | 'none' {
    const { channel, business_id: biz, user_id: user } = e;
    const object = OBJECT_OF[channel];
    const send = e.send_id !== undefined ? this.sends.get(e.send_id) : undefined;
    if (e.send_id !== undefined && !send) throw new Error(`simulated ${e.type} ${e.event_id} names an unknown send ${e.send_id}`);
    const own = simulatedMid(channel, e.event_id);
    if (object === 'whatsapp_business_account') {
      const wa = (change: { field: string; value: Json }): Item => ({ object, businessId: biz, change });
      switch (e.type) {
        case 'send': {
          this.sends.set(e.event_id, { mid: own, at });
          const category = e.category ?? 'unknown';
          const pricing = pricingCategoryOf(category);
          const labels = writeLabels({ category: pricing === null ? category : null, topic: e.topic ?? null, campaign: e.campaign_id ?? null });
          return wa(waMessagesChange({ statuses: [waStatus(own, 'sent', at, user, { pricingCategory: pricing ?? undefined, callbackData: labels })] }));
        }
        case 'delivered':
        case 'read':
          return wa(waMessagesChange({ statuses: [waStatus(send!.mid, e.type, at, user)] }));
        case 'clicked':
        case 'replied':
          return wa(waMessagesChange({ messages: [waMessage(user, own, at, send!.mid, e.type === 'clicked' ? 'button' : 'text')] }));
        case 'opt_in':
          return wa(waPreferencesChange(user, at, 'resume'));
        case 'opt_out':
          return odd(e.event_id)
            ? wa(waMessagesChange({ statuses: [waStatus(own, 'failed', at, user, { errorCode: 131050 })] }))
            : wa(waPreferencesChange(user, at, 'stop'));
        default:
          return null;
      }
    }
    const m = (item: Json): Item => ({ object, businessId: biz, at, item });
    switch (e.type) {
      case 'send':
        this.sends.set(e.event_id, { mid: own, at });
        return m(
          echo(
            biz,
            user,
            at,
            own,
            writeLabels({ category: e.category ?? null, frequency: e.frequency ?? null, topic: e.topic ?? null, campaign: e.campaign_id ?? null }),
          ),
        );
      case 'delivered':
        // Instagram has no delivery webhook.
        return channel === 'instagram' ? 'none' : m(delivery(biz, user, at, [send!.mid], at));
      case 'read':
        return channel === 'instagram' ? m(seen(biz, user, at, send!.mid)) : m(readWatermark(biz, user, at, send!.at));
      case 'clicked':
        return m(postback(biz, user, at, own, writeLabels({ send: send!.mid })));
      case 'replied':
        return m(reply(biz, user, at, own, send!.mid));
      case 'opt_in':
        return m(
          optin(biz, user, at, { payload: e.topic ?? undefined, frequency: e.frequency ? (e.frequency.toUpperCase() as 'DAILY') : undefined, token: own }),
        );
      case 'opt_out':
        return m(optin(biz, user, at, { payload: e.topic ?? undefined, status: odd(e.event_id) ? 'STOP NOTIFICATIONS' : 'STOP_NOTIFICATIONS', token: own }));
      default:
        return null;
    }
  }
}

/** The simulated world in Meta's shapes, in order; `truth()` once the outputs are exhausted. */
export function simulateMetaWebhooks(opts: MetaSimulationOptions): { outputs(): Generator<SimulatedOutput>; truth(): Truth } {
  if ((opts.badRatio ?? 0) > 0) throw new Error('bad lines have no webhook form: use --bad-ratio 0 with --format meta-webhooks');
  const { appSecret, batchItems, ...options } = opts;
  const sim = createSimulation(options);
  return {
    *outputs() {
      const writer = new MetaWebhookWriter(appSecret, batchItems);
      for (const l of sim.lines()) yield* writer.event(l.line);
      yield* writer.end();
    },
    truth: () => sim.truth(),
  };
}
