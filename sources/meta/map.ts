// One webhook body, as Meta posted it, to contract events. Pure but for the thread book (Messenger's watermarks
// need the sends seen before), which the caller owns: one book for the whole raw topic, rebuilt by replaying it.
import type { Channel } from '../../events/types.js';
import { Emitter } from './emit.js';
import { mapMessagingItem } from './messaging.js';
import { isRecord, nonEmptyString, idOf, ResultBuilder, type MapResult } from './result.js';
import { ThreadBook } from './threads.js';
import { mapWhatsAppChange } from './whatsapp.js';

/** Meta's `object` values the mapping knows, and the channel of each. */
export const META_OBJECTS: Readonly<Record<string, Channel>> = { page: 'messenger', instagram: 'instagram', whatsapp_business_account: 'whatsapp' };

export interface MapOptions {
  /** When the collector received the body (epoch ms): bounds occurred_at, and stands in for a missing event time. */
  receivedAt?: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class MetaMapper {
  /** The sends and watermarks seen so far; pass one in to share it, or to keep it across mappers. */
  readonly book: ThreadBook;

  constructor(book: ThreadBook = new ThreadBook()) {
    this.book = book;
  }

  map(body: Buffer | string, opts: MapOptions = {}): MapResult {
    const out = new ResultBuilder();
    let payload: unknown;
    try {
      payload = JSON.parse(typeof body === 'string' ? body : UTF8.decode(body));
    } catch (err) {
      out.problem('not_json', '$', `not valid JSON: ${(err as Error).message}`);
      return out.result();
    }
    if (!isRecord(payload)) {
      out.problem('unmappable', '$', 'a webhook body must be a JSON object');
      return out.result();
    }
    if (!nonEmptyString(payload.object)) {
      out.problem('unmappable', '$.object', 'is required');
      return out.result();
    }
    const channel = META_OBJECTS[payload.object];
    if (channel === undefined) {
      out.ignore(`object:${payload.object}`);
      return out.result();
    }
    if (!Array.isArray(payload.entry)) {
      out.problem('unmappable', '$.entry', 'must be an array');
      return out.result();
    }
    const now = opts.receivedAt ?? Date.now();
    const emit = new Emitter(out, now);
    payload.entry.forEach((entry, i) => {
      this.mapEntry(entry, `$.entry[${i}]`, channel, opts.receivedAt ?? null, emit, out);
    });
    return out.result();
  }

  private mapEntry(entry: unknown, path: string, channel: Channel, receivedAt: number | null, emit: Emitter, out: ResultBuilder) {
    if (!isRecord(entry)) return out.problem('unmappable', path, 'an entry must be an object');
    const businessId = idOf(entry.id);
    if (businessId === null) return out.problem('unmappable', `${path}.id`, 'is required');
    for (const k of Object.keys(entry)) if (!['id', 'time', 'messaging', 'standby', 'changes'].includes(k)) out.ignore(`${channel}:entry:${k}`);
    if (channel === 'whatsapp') {
      const changes = Array.isArray(entry.changes) ? entry.changes : [];
      changes.forEach((c, j) => {
        mapWhatsAppChange(c, `${path}.changes[${j}]`, { businessId, fallbackAt: receivedAt, emit, out });
      });
      return;
    }
    // entry.time is when Meta sent the batch, not when anything happened: only a last resort.
    const fallbackAt = typeof entry.time === 'number' && Number.isSafeInteger(entry.time) ? entry.time : receivedAt;
    for (const list of ['messaging', 'standby'] as const) {
      const items = entry[list];
      if (!Array.isArray(items)) continue;
      items.forEach((item, j) => {
        mapMessagingItem(item, `${path}.${list}[${j}]`, { channel, businessId, fallbackAt, book: this.book, emit, out });
      });
    }
    if (Array.isArray(entry.changes)) {
      for (const c of entry.changes) out.ignore(`${channel}:change:${isRecord(c) && nonEmptyString(c.field) ? c.field : 'none'}`);
    }
  }
}
