// The mapping from Meta's webhook bodies to contract events: each rule of docs/sources.md, batches, retries,
// statuses out of order, what is counted instead of mapped, and what goes to the dead-letter topic.
import { describe, expect, it } from 'vitest';
import type { PolicyEvent } from '../events/types.js';
import { receiptEventId, sendEventId } from '../sources/meta/ids.js';
import { writeLabels } from '../sources/meta/labels.js';
import { MetaMapper } from '../sources/meta/map.js';
import {
  delivery,
  echo,
  messagingBody,
  optin,
  postback,
  quickReply,
  readWatermark,
  reply,
  seen,
  waMessage,
  waMessagesChange,
  waPreferencesChange,
  waStatus,
  whatsappBody,
} from '../sources/meta/payloads.js';
import { signBody, verifySignature } from '../sources/meta/signature.js';
import { MAX_SENDS_PER_THREAD } from '../sources/meta/threads.js';

const PAGE = '1234567890';
const USER = 'psid-1';
const T = Date.parse('2024-05-01T12:00:00.000Z');
const RECEIVED = T + 3_600_000;

type Item = Record<string, unknown>;
const page = (...messaging: Item[]) => JSON.stringify(messagingBody('page', [{ businessId: PAGE, time: T, messaging }]));
const instagram = (...messaging: Item[]) => JSON.stringify(messagingBody('instagram', [{ businessId: 'ig-1', time: T, messaging }]));
const whatsapp = (...changes: { field: string; value: Item }[]) => JSON.stringify(whatsappBody([{ businessId: 'waba-1', changes }]));

/** Maps bodies in order with one book, as the mapping stage does. */
function mapAll(...bodies: string[]): { events: PolicyEvent[]; ignored: Record<string, number>; mapper: MetaMapper } {
  const mapper = new MetaMapper();
  const events: PolicyEvent[] = [];
  const ignored: Record<string, number> = {};
  for (const b of bodies) {
    const r = mapper.map(b, { receivedAt: RECEIVED });
    expect(r.problems).toEqual([]);
    events.push(...r.events);
    for (const [k, n] of Object.entries(r.ignored)) ignored[k] = (ignored[k] ?? 0) + n;
  }
  return { events, ignored, mapper };
}

/** `type send_id` of each engagement, `type` of the rest: what happened to which send, order aside. */
const facts = (events: PolicyEvent[]): string[] =>
  events.map((e) => ('send_id' in e ? `${e.type} ${e.send_id}` : e.type === 'send' ? `send ${e.event_id}` : e.type)).sort();

describe('Messenger', () => {
  it('maps an echo to a send, with category, frequency, topic and campaign from pl: metadata', () => {
    const meta = writeLabels({ category: 'recurring_notification', frequency: 'weekly', topic: 'deals', campaign: 'spring' });
    const { events } = mapAll(page(echo(PAGE, USER, T, 'm_1', meta)));
    expect(events).toEqual([
      {
        event_id: sendEventId('m_1'),
        type: 'send',
        occurred_at: T,
        business_id: PAGE,
        user_id: USER,
        channel: 'messenger',
        category: 'recurring_notification',
        frequency: 'weekly',
        topic: 'deals',
        campaign_id: 'spring',
      },
    ]);
  });

  it('takes any other metadata as the campaign, and the category as unknown', () => {
    const { events } = mapAll(page(echo(PAGE, USER, T, 'm_1', 'summer-sale'), echo(PAGE, USER, T + 1, 'm_2')));
    expect(events.map((e) => [e.type === 'send' && e.category, e.type === 'send' && e.campaign_id])).toEqual([
      ['unknown', 'summer-sale'],
      ['unknown', null],
    ]);
  });

  it('maps a delivery with mids to those sends only, whatever the watermark says', () => {
    const { events } = mapAll(page(echo(PAGE, USER, T, 'm_1'), echo(PAGE, USER, T + 10, 'm_2'), delivery(PAGE, USER, T + 20, ['m_2'])));
    expect(facts(events).filter((f) => f.startsWith('delivered'))).toEqual([`delivered ${sendEventId('m_2')}`]);
  });

  it('expands a read watermark to every send at or before it, with its delivery, and not to later sends', () => {
    const { events } = mapAll(
      page(echo(PAGE, USER, T, 'm_1'), echo(PAGE, USER, T + 10, 'm_2'), echo(PAGE, USER, T + 30, 'm_3')),
      page(readWatermark(PAGE, USER, T + 40, T + 10)),
    );
    const engagements = facts(events).filter((f) => !f.startsWith('send'));
    expect(engagements).toEqual(
      [`delivered ${sendEventId('m_1')}`, `delivered ${sendEventId('m_2')}`, `read ${sendEventId('m_1')}`, `read ${sendEventId('m_2')}`].sort(),
    );
    const read = events.find((e) => e.type === 'read');
    expect(read?.occurred_at).toBe(T + 40);
    expect(read?.event_id).toBe(receiptEventId('m_1', 'read'));
  });

  it('gives the same events when the watermark comes before the echo', () => {
    const echoes = page(echo(PAGE, USER, T, 'm_1'), echo(PAGE, USER, T + 10, 'm_2'), echo(PAGE, USER, T + 30, 'm_3'));
    const watermarks = page(delivery(PAGE, USER, T + 10), readWatermark(PAGE, USER, T + 40, T + 10));
    const inOrder = mapAll(echoes, watermarks).events;
    const reversed = mapAll(watermarks, echoes).events;
    expect(facts(reversed)).toEqual(facts(inOrder));
    expect(new Set(reversed.map((e) => e.event_id))).toEqual(new Set(inOrder.map((e) => e.event_id)));
    expect(facts(inOrder).filter((f) => f.includes(sendEventId('m_3')))).toEqual([`send ${sendEventId('m_3')}`]);
  });

  it('keeps at most MAX_SENDS_PER_THREAD unread sends of a thread, the latest', () => {
    const echoes = Array.from({ length: MAX_SENDS_PER_THREAD + 5 }, (_, i) => echo(PAGE, USER, T + i, `m_${i}`));
    const { events } = mapAll(page(...echoes), page(readWatermark(PAGE, USER, T + 5000, T + 5000)));
    const read = events.filter((e) => e.type === 'read').map((e) => ('send_id' in e ? e.send_id : ''));
    expect(read).toHaveLength(MAX_SENDS_PER_THREAD);
    expect(read).not.toContain(sendEventId('m_0'));
    expect(read).toContain(sendEventId(`m_${MAX_SENDS_PER_THREAD + 4}`));
  });

  it('keeps watermarks per user and page', () => {
    const { events } = mapAll(page(echo(PAGE, USER, T, 'm_1'), echo(PAGE, 'psid-2', T, 'm_2')), page(readWatermark(PAGE, USER, T + 5, T + 5)));
    expect(events.filter((e) => e.type === 'read').map((e) => e.user_id)).toEqual([USER]);
  });

  it('maps a quick reply to a click on the latest send, or on the send its payload names', () => {
    const { events } = mapAll(
      page(echo(PAGE, USER, T, 'm_1'), echo(PAGE, USER, T + 10, 'm_2')),
      page(quickReply(PAGE, USER, T + 20, 'm_in1', 'YES')),
      page(quickReply(PAGE, USER, T + 30, 'm_in2', writeLabels({ send: 'm_1' }))),
    );
    expect(facts(events).filter((f) => f.startsWith('clicked'))).toEqual([`clicked ${sendEventId('m_1')}`, `clicked ${sendEventId('m_2')}`].sort());
  });

  it('maps reply_to to replied, a postback to clicked, and counts a message that names no send', () => {
    const { events, ignored } = mapAll(
      page(echo(PAGE, USER, T, 'm_1')),
      page(reply(PAGE, USER, T + 5, 'm_in1', 'm_1'), postback(PAGE, USER, T + 6, 'm_pb', writeLabels({ send: 'm_1' }))),
      page({ sender: { id: USER }, recipient: { id: PAGE }, timestamp: T + 7, message: { mid: 'm_in2', text: 'hi' } }),
    );
    expect(facts(events).filter((f) => !f.startsWith('send'))).toEqual([`clicked ${sendEventId('m_1')}`, `replied ${sendEventId('m_1')}`]);
    expect(ignored).toEqual({ 'messenger:message_without_reply_to': 1 });
  });

  it('maps messaging_optins: opt_in with or without frequency, stop and resume spelled either way', () => {
    const { events } = mapAll(
      page(
        optin(PAGE, USER, T, { payload: 'deals', frequency: 'WEEKLY' }),
        optin(PAGE, 'psid-2', T, { payload: 'news' }),
        optin(PAGE, USER, T + 1, { status: 'STOP NOTIFICATIONS' }),
        optin(PAGE, USER, T + 2, { status: 'RESUME_NOTIFICATIONS' }),
        optin(PAGE, 'psid-2', T + 3, { status: 'STOP_NOTIFICATIONS' }),
      ),
    );
    expect(events.map((e) => (e.type === 'opt_in' || e.type === 'opt_out' ? [e.type, e.user_id, e.frequency ?? null, e.topic ?? null] : null))).toEqual([
      ['opt_in', USER, 'weekly', 'deals'],
      ['opt_in', 'psid-2', null, 'news'],
      ['opt_out', USER, null, null],
      ['opt_in', USER, null, null],
      ['opt_out', 'psid-2', null, null],
    ]);
  });
});

describe('Instagram', () => {
  it('maps an is_echo message to a send and messaging_seen to a read (and delivery) of that message', () => {
    const { events } = mapAll(instagram(echo('ig-1', 'igsid-1', T, 'ig_m1'), seen('ig-1', 'igsid-1', T + 5, 'ig_m1')));
    expect(events.every((e) => e.channel === 'instagram' && e.business_id === 'ig-1' && e.user_id === 'igsid-1')).toBe(true);
    expect(facts(events)).toEqual([`delivered ${sendEventId('ig_m1')}`, `read ${sendEventId('ig_m1')}`, `send ${sendEventId('ig_m1')}`]);
  });
});

describe('WhatsApp', () => {
  const sent = waStatus('wamid.1', 'sent', T, '16505551234', { pricingCategory: 'marketing', callbackData: 'campaign-42' });

  it('maps a sent status to a send, with the category from pricing and the campaign from biz_opaque_callback_data', () => {
    const { events } = mapAll(whatsapp(waMessagesChange({ statuses: [sent] })));
    expect(events).toEqual([
      {
        event_id: sendEventId('wamid.1'),
        type: 'send',
        occurred_at: Math.floor(T / 1000) * 1000,
        business_id: 'waba-1',
        user_id: '16505551234',
        channel: 'whatsapp',
        category: 'marketing_template',
        frequency: null,
        topic: null,
        campaign_id: 'campaign-42',
      },
    ]);
  });

  it('gives the same engagements when read arrives before delivered, and knows the send from a priced status', () => {
    const delivered = waStatus('wamid.1', 'delivered', T + 5000, '16505551234');
    const read = waStatus('wamid.1', 'read', T + 9000, '16505551234', { pricingCategory: 'utility' });
    const inOrder = mapAll(whatsapp(waMessagesChange({ statuses: [delivered] })), whatsapp(waMessagesChange({ statuses: [read] }))).events;
    const reversed = mapAll(whatsapp(waMessagesChange({ statuses: [read] })), whatsapp(waMessagesChange({ statuses: [delivered] }))).events;
    const id = sendEventId('wamid.1');
    expect(facts(inOrder)).toEqual([`delivered ${id}`, `delivered ${id}`, `read ${id}`, `send ${id}`]);
    expect(new Set(reversed.map((e) => e.event_id))).toEqual(new Set(inOrder.map((e) => e.event_id)));
    expect(inOrder.find((e) => e.type === 'send')).toMatchObject({ category: 'utility_template' });
  });

  it('maps button and interactive replies to clicks, a text with context to a reply, and counts one without', () => {
    const { events, ignored } = mapAll(
      whatsapp(
        waMessagesChange({
          messages: [
            waMessage('16505551234', 'wamid.in1', T, 'wamid.1', 'button'),
            waMessage('16505551234', 'wamid.in2', T, 'wamid.1', 'interactive'),
            waMessage('16505551234', 'wamid.in3', T, 'wamid.1', 'text'),
            waMessage('16505551234', 'wamid.in4', T, null, 'text'),
          ],
        }),
      ),
    );
    const id = sendEventId('wamid.1');
    expect(facts(events)).toEqual([`clicked ${id}`, `clicked ${id}`, `replied ${id}`]);
    expect(ignored).toEqual({ 'whatsapp:message_without_context:text': 1 });
  });

  it('maps user_preferences stop and resume, and failure 131050, to opt_out and opt_in', () => {
    const { events, ignored } = mapAll(
      whatsapp(waPreferencesChange('16505551234', T, 'stop')),
      whatsapp(waPreferencesChange('16505551234', T + 1000, 'resume')),
      whatsapp(waMessagesChange({ statuses: [waStatus('wamid.9', 'failed', T + 2000, '16505559999', { errorCode: 131050 })] })),
      whatsapp(waMessagesChange({ statuses: [waStatus('wamid.8', 'failed', T + 2000, '16505559999', { errorCode: 131049 })] })),
    );
    expect(events.map((e) => [e.type, e.user_id, 'frequency' in e ? e.frequency : undefined])).toEqual([
      ['opt_out', '16505551234', null],
      ['opt_in', '16505551234', null],
      ['opt_out', '16505559999', null],
    ]);
    expect(ignored).toEqual({ 'whatsapp:failed:131049': 1 });
  });
});

describe('batches, retries and what is not mapped', () => {
  it('maps a body of many entries, each with several items', () => {
    const entries = Array.from({ length: 300 }, (_, i) => ({
      businessId: `page-${i % 7}`,
      time: T,
      messaging: [echo(`page-${i % 7}`, `u-${i}`, T + i, `m_${i}`), delivery(`page-${i % 7}`, `u-${i}`, T + i + 1, [`m_${i}`])],
    }));
    const { events } = mapAll(JSON.stringify(messagingBody('page', entries)));
    expect(events.filter((e) => e.type === 'send')).toHaveLength(300);
    expect(events.filter((e) => e.type === 'delivered')).toHaveLength(300);
    expect(new Set(events.map((e) => e.event_id)).size).toBe(600);
  });

  it('gives a body delivered three times the same event ids each time', () => {
    const body = page(echo(PAGE, USER, T, 'm_1'), readWatermark(PAGE, USER, T + 5, T), optin(PAGE, USER, T, { frequency: 'DAILY' }));
    const mapper = new MetaMapper();
    const ids = [1, 2, 3].map(() => mapper.map(body, { receivedAt: RECEIVED }).events.map((e) => e.event_id));
    // The first delivery maps everything; the book knows the receipts after it, so retries add no new facts.
    expect(ids[0]).toHaveLength(4);
    for (const again of ids.slice(1)) for (const id of again) expect(ids[0]).toContain(id);
    // A fresh mapper (a replay of the raw topic) gives the very same ids.
    expect(new MetaMapper().map(body, { receivedAt: RECEIVED }).events.map((e) => e.event_id)).toEqual(ids[0]);
  });

  it('counts unknown objects, fields, items and WhatsApp fields, and maps nothing from them', () => {
    const mapper = new MetaMapper();
    const bodies = [
      JSON.stringify({ object: 'permissions', entry: [{ id: '1', changes: [{ field: 'ads_management' }] }] }),
      page(
        { recipient: { id: PAGE }, timestamp: T, policy_enforcement: { action: 'block', reason: 'spam' } },
        { sender: { id: USER }, recipient: { id: PAGE }, timestamp: T, reaction: { mid: 'm_1', action: 'react', emoji: '❤' } },
        { ...echo(PAGE, USER, T, 'm_1'), brand_new_thing: { x: 1 } },
      ),
      JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: T, changes: [{ field: 'feed', value: {} }], hop_context: [] }] }),
      whatsapp(
        { field: 'message_template_quality_update', value: { previous_quality_score: 'GREEN', new_quality_score: 'YELLOW' } },
        { ...waMessagesChange({ statuses: [] }), value: { ...waMessagesChange({}).value, shiny: true } },
      ),
    ];
    const ignored: Record<string, number> = {};
    let events = 0;
    for (const b of bodies) {
      const r = mapper.map(b, { receivedAt: RECEIVED });
      expect(r.problems).toEqual([]);
      events += r.events.length;
      for (const [k, n] of Object.entries(r.ignored)) ignored[k] = (ignored[k] ?? 0) + n;
    }
    expect(events).toBe(1); // the echo, whose unknown sibling field is counted
    expect(ignored).toEqual({
      'object:permissions': 1,
      'messenger:policy_enforcement': 1,
      'messenger:reaction': 1,
      'messenger:field:brand_new_thing': 1,
      'messenger:change:feed': 1,
      'messenger:entry:hop_context': 1,
      'whatsapp:message_template_quality_update': 1,
      'whatsapp:messages:field:shiny': 1,
    });
  });

  it('reports what cannot be mapped, with the reason and where, and still maps the rest of the body', () => {
    const mapper = new MetaMapper();
    const problems = (b: string) => mapper.map(b, { receivedAt: RECEIVED }).problems.map((p) => [p.reason, p.path]);
    expect(problems('{"object":"page","entry":[')).toEqual([['not_json', '$']]);
    expect(problems(Buffer.from([0x7b, 0xff, 0x7d]) as unknown as string)).toEqual([['not_json', '$']]);
    expect(problems('[1,2]')).toEqual([['unmappable', '$']]);
    expect(problems('{"entry":[]}')).toEqual([['unmappable', '$.object']]);
    expect(problems('{"object":"page","entry":{}}')).toEqual([['unmappable', '$.entry']]);
    expect(problems('{"object":"page","entry":[{"time":1}]}')).toEqual([['unmappable', '$.entry[0].id']]);
    expect(problems(whatsapp(waMessagesChange({ statuses: [{ status: 'sent', timestamp: '1714564800', recipient_id: '1' }] })))).toEqual([
      ['unmappable', '$.entry[0].changes[0].value.statuses[0].id'],
    ]);
    const mixed = mapper.map(page(echo(PAGE, USER, T, 'm_ok'), echo(PAGE, USER, T, 'm_long', 'c'.repeat(129)), { sender: {}, read: { watermark: T } }), {
      receivedAt: RECEIVED,
    });
    expect(mixed.events.map((e) => e.event_id)).toEqual([sendEventId('m_ok')]);
    expect(mixed.problems.map((p) => [p.reason, p.path, p.problem.slice(0, 14)])).toEqual([
      ['contract', '$.entry[0].messaging[1]', '$.campaign_id:'],
      ['unmappable', '$.entry[0].messaging[2].sender.id', 'is required'],
    ]);
  });
});

describe('signatures', () => {
  it('signs the bytes as received: escaped unicode verifies, its re-serialisation does not', () => {
    const body = Buffer.from('{"object":"page","entry":[{"id":"1","time":1,"messaging":[{"message":{"text":"\\u00e4\\u00f6\\u00e5"}}]}]}');
    const header = signBody(body, 'secret');
    expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(body, header, 'secret')).toBe(true);
    expect(verifySignature(Buffer.from(JSON.stringify(JSON.parse(body.toString()))), header, 'secret')).toBe(false);
    expect(verifySignature(body, header, 'other')).toBe(false);
    expect(verifySignature(body, undefined, 'secret')).toBe(false);
  });
});
