// The event contract v1 as a table of cases, run by test/contract.test.ts (validateEvent, parseEvent) and by
// test/schemas.test.ts (the JSON Schemas in events/schemas/). One table keeps the code, the schemas and
// docs/events.md in step: add a case here whenever a rule changes.
import { CHANNELS, ENGAGEMENT_TYPES, FREQUENCIES, SEND_CATEGORIES, SUBSCRIPTION_TYPES } from '../events/types.js';
import type { EventFamily } from '../events/types.js';
import type { RejectReason } from '../events/validate.js';
import { DAY, iso } from './helpers/time.js';

/** The `now` every case is validated against (occurred_at may be at most one day after it). */
export const NOW = Date.parse('2024-03-01T00:00:00.000Z');
/** 2022-06-01T12:00:00Z, the occurred_at of the base events. */
const T = 1_654_084_800_000;
const MIN_TIME = 1_262_304_000_000; // 2010-01-01T00:00:00Z
const KIB64 = 64 * 1024;

export type Expected = { ok: true; family: EventFamily; row: Record<string, unknown> } | { ok: false; reason: RejectReason; path: string; problem: RegExp };

export interface ContractCase {
  /** Unique; becomes the test name. */
  name: string;
  /** An already-parsed value: validateEvent(event) and parseEvent(JSON.stringify(event)). */
  event?: unknown;
  /** Bytes or text as they arrive on the wire: parseEvent only (and the schema, via JSON.parse, unless `transport`). */
  raw?: string | Buffer;
  expected: Expected;
  /**
   * Decided before the contract is looked at (size, UTF-8, JSON syntax): the schemas have no say, so
   * test/schemas.test.ts skips the case.
   */
  transport?: true;
  /** The value cannot survive JSON.stringify (NaN): validateEvent only. */
  valueOnly?: true;
  /**
   * Why only the validator can decide this case (the schema accepts it; the validator rejects it):
   * occurred_at after now + 1 day, or within a day of 2010-01-01 once the offset is applied.
   */
  validatorOnly?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Base events (required fields only) and the rows they normalise to.

type Obj = Record<string, unknown>;

/** Shallow merge where an `undefined` value removes the key, so cases can say "this field is absent". */
function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base, ...over };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete out[k];
  return out;
}

const COMMON = { occurred_at: '2022-06-01T12:00:00Z', business_id: 'biz-1', user_id: 'usr-1', channel: 'messenger' };
const COMMON_ROW = { occurred_at: T, business_id: 'biz-1', user_id: 'usr-1', channel: 'messenger', regime: null };

export const send = (over: Obj = {}): Obj => merge({ event_id: 'snd-1', type: 'send', ...COMMON, category: 'response' }, over);
export const engagement = (over: Obj = {}): Obj => merge({ event_id: 'eng-1', type: 'read', ...COMMON, send_id: 'snd-1' }, over);
export const subscription = (over: Obj = {}): Obj => merge({ event_id: 'sub-1', type: 'opt_out', ...COMMON }, over);

const sendRow = (over: Obj = {}): Obj => ({
  event_id: 'snd-1',
  ...COMMON_ROW,
  category: 'response',
  frequency: null,
  topic: null,
  campaign_id: null,
  cost_usd: 0,
  ...over,
});
const engagementRow = (over: Obj = {}): Obj => ({ event_id: 'eng-1', ...COMMON_ROW, type: 'read', send_id: 'snd-1', revenue_usd: 0, ...over });
const subscriptionRow = (over: Obj = {}): Obj => ({
  event_id: 'sub-1',
  ...COMMON_ROW,
  type: 'opt_out',
  topic: null,
  frequency: null,
  reason: null,
  ...over,
});

const okSend = (row: Obj = {}): Expected => ({ ok: true, family: 'sends', row: sendRow(row) });
const okEngagement = (row: Obj = {}): Expected => ({ ok: true, family: 'engagements', row: engagementRow(row) });
const okSubscription = (row: Obj = {}): Expected => ({ ok: true, family: 'subscriptions', row: subscriptionRow(row) });
const contract = (path: string, problem: RegExp): Expected => ({ ok: false, reason: 'contract', path, problem });
const notJson: Expected = { ok: false, reason: 'not_json', path: '$', problem: /not valid JSON/ };

/** A send as JSON text padded (with an unknown `pad` field) to exactly `bytes` bytes of UTF-8. */
function paddedSend(bytes: number, fill = 'x'): string {
  const head = `${JSON.stringify(send()).slice(0, -1)},"pad":"`;
  const tail = '"}';
  const room = bytes - Buffer.byteLength(head + tail);
  const per = Buffer.byteLength(fill);
  const text = head + fill.repeat(Math.floor(room / per)) + 'x'.repeat(room % per) + tail;
  if (Buffer.byteLength(text) !== bytes) throw new Error(`paddedSend: built ${Buffer.byteLength(text)} bytes, wanted ${bytes}`);
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// The table.

export const CASES: ContractCase[] = [
  // --- whole event: shape, JSON, size ----------------------------------------------------------------------
  { name: 'top level: array', event: [send()], expected: contract('$', /must be a JSON object, got array/) },
  { name: 'top level: empty array', event: [], expected: contract('$', /must be a JSON object, got array/) },
  { name: 'top level: number', event: 42, expected: contract('$', /must be a JSON object, got number/) },
  { name: 'top level: null', event: null, expected: contract('$', /must be a JSON object, got null/) },
  { name: 'top level: string', event: 'send', expected: contract('$', /must be a JSON object, got string/) },
  { name: 'top level: boolean', event: true, expected: contract('$', /must be a JSON object, got boolean/) },
  { name: 'top level: empty object needs a type', event: {}, expected: contract('$.type', /is required/) },
  { name: 'not JSON: truncated object', raw: JSON.stringify(send()).slice(0, 40), transport: true, expected: notJson },
  { name: 'not JSON: empty line', raw: '', transport: true, expected: notJson },
  { name: 'not JSON: trailing comma', raw: `${JSON.stringify(send()).slice(0, -1)},}`, transport: true, expected: notJson },
  { name: 'not JSON: single quotes', raw: "{'event_id': 'snd-1'}", transport: true, expected: notJson },
  { name: 'not JSON: two objects on one line', raw: JSON.stringify(send()) + JSON.stringify(send()), transport: true, expected: notJson },
  {
    name: 'not JSON: NaN literal (NaN cannot be written in JSON)',
    raw: `${JSON.stringify(send()).slice(0, -1)},"cost_usd":NaN}`,
    transport: true,
    expected: notJson,
  },
  { name: 'not JSON: a UTF-8 byte-order mark', raw: `\uFEFF${JSON.stringify(send())}`, transport: true, expected: notJson },
  {
    name: 'not JSON: invalid UTF-8 bytes',
    raw: Buffer.concat([Buffer.from(JSON.stringify(send({ topic: 'caf' })).slice(0, -2)), Buffer.from([0xff, 0x22, 0x7d])]),
    transport: true,
    expected: { ok: false, reason: 'not_json', path: '$', problem: /utf-8/i },
  },
  { name: 'CRLF line ending (trailing \\r) is tolerated', raw: `${JSON.stringify(send())}\r`, transport: true, expected: okSend() },
  { name: 'size: exactly 64 KiB of ASCII is accepted, pad not copied', raw: paddedSend(KIB64), transport: true, expected: okSend() },
  {
    name: 'size: 64 KiB + 1 byte is too large',
    raw: paddedSend(KIB64 + 1),
    transport: true,
    expected: { ok: false, reason: 'too_large', path: '$', problem: /65537 bytes; the limit is 65536/ },
  },
  { name: 'size: exactly 64 KiB as a Buffer is accepted', raw: Buffer.from(paddedSend(KIB64)), transport: true, expected: okSend() },
  {
    name: 'size: 64 KiB + 1 byte as a Buffer is too large',
    raw: Buffer.from(paddedSend(KIB64 + 1)),
    transport: true,
    expected: { ok: false, reason: 'too_large', path: '$', problem: /65537 bytes/ },
  },
  { name: 'size: exactly 64 KiB of 2-byte characters is accepted', raw: paddedSend(KIB64, 'é'), transport: true, expected: okSend() },
  {
    name: 'size: bytes are counted, not characters (3-byte characters, ~22k chars, >64 KiB)',
    raw: paddedSend(KIB64 + 3, '€'),
    transport: true,
    expected: { ok: false, reason: 'too_large', path: '$', problem: /65539 bytes/ },
  },

  // --- type -----------------------------------------------------------------------------------------------
  { name: 'type: absent', event: send({ type: undefined }), expected: contract('$.type', /is required/) },
  {
    name: 'type: unknown',
    event: send({ type: 'sned' }),
    expected: { ok: false, reason: 'unknown_type', path: '$.type', problem: /unknown event type "sned"/ },
  },
  {
    name: 'type: wrong case',
    event: send({ type: 'Send' }),
    expected: { ok: false, reason: 'unknown_type', path: '$.type', problem: /unknown event type "Send"/ },
  },
  {
    name: 'type: a family name is not a type',
    event: engagement({ type: 'engagement' }),
    expected: { ok: false, reason: 'unknown_type', path: '$.type', problem: /"engagement"/ },
  },
  { name: 'type: number', event: send({ type: 1 }), expected: { ok: false, reason: 'unknown_type', path: '$.type', problem: /unknown event type 1/ } },
  { name: 'type: null', event: send({ type: null }), expected: { ok: false, reason: 'unknown_type', path: '$.type', problem: /unknown event type null/ } },

  // --- event_id -------------------------------------------------------------------------------------------
  { name: 'event_id: 1 character', event: send({ event_id: 'a' }), expected: okSend({ event_id: 'a' }) },
  { name: 'event_id: 64 characters', event: send({ event_id: 'i'.repeat(64) }), expected: okSend({ event_id: 'i'.repeat(64) }) },
  { name: 'event_id: 65 characters', event: send({ event_id: 'i'.repeat(65) }), expected: contract('$.event_id', /1.64 characters, got 65/) },
  { name: 'event_id: empty', event: send({ event_id: '' }), expected: contract('$.event_id', /1.64 characters, got 0/) },
  { name: 'event_id: absent', event: send({ event_id: undefined }), expected: contract('$.event_id', /is required/) },
  { name: 'event_id: number', event: send({ event_id: 123 }), expected: contract('$.event_id', /must be a string, got number/) },
  { name: 'event_id: null', event: send({ event_id: null }), expected: contract('$.event_id', /must be a string, got null/) },
  {
    name: 'event_id: 64 characters outside the BMP (128 UTF-16 units)',
    event: send({ event_id: '😀'.repeat(64) }),
    expected: okSend({ event_id: '😀'.repeat(64) }),
  },
  { name: 'event_id: 65 characters outside the BMP', event: send({ event_id: '😀'.repeat(65) }), expected: contract('$.event_id', /64 characters/) },

  // --- occurred_at: accepted forms -------------------------------------------------------------------------
  { name: 'occurred_at: RFC 3339 with Z', event: send({ occurred_at: '2022-06-01T12:00:00Z' }), expected: okSend({ occurred_at: T }) },
  { name: 'occurred_at: RFC 3339 with +02:00', event: send({ occurred_at: '2022-06-01T14:00:00+02:00' }), expected: okSend({ occurred_at: T }) },
  { name: 'occurred_at: RFC 3339 with -05:30', event: send({ occurred_at: '2022-06-01T06:30:00-05:30' }), expected: okSend({ occurred_at: T }) },
  { name: 'occurred_at: RFC 3339 with +00:00', event: send({ occurred_at: '2022-06-01T12:00:00+00:00' }), expected: okSend({ occurred_at: T }) },
  { name: 'occurred_at: offset crossing midnight', event: send({ occurred_at: '2022-06-02T01:00:00+13:00' }), expected: okSend({ occurred_at: T }) },
  { name: 'occurred_at: milliseconds', event: send({ occurred_at: '2022-06-01T12:00:00.123Z' }), expected: okSend({ occurred_at: T + 123 }) },
  { name: 'occurred_at: one fractional digit', event: send({ occurred_at: '2022-06-01T12:00:00.5Z' }), expected: okSend({ occurred_at: T + 500 }) },
  {
    name: 'occurred_at: nine fractional digits truncate to ms',
    event: send({ occurred_at: '2022-06-01T12:00:00.123999999Z' }),
    expected: okSend({ occurred_at: T + 123 }),
  },
  { name: 'occurred_at: fraction with an offset', event: send({ occurred_at: '2022-06-01T14:00:00.570+02:00' }), expected: okSend({ occurred_at: T + 570 }) },
  { name: 'occurred_at: lower-case t and z', event: send({ occurred_at: '2022-06-01t12:00:00z' }), expected: okSend({ occurred_at: T }) },
  { name: 'occurred_at: space instead of T', event: send({ occurred_at: '2022-06-01 12:00:00Z' }), expected: okSend({ occurred_at: T }) },
  {
    name: 'occurred_at: leap second 60 counts as 59',
    event: send({ occurred_at: '2016-12-31T23:59:60Z' }),
    expected: okSend({ occurred_at: 1_483_228_799_000 }),
  },
  {
    name: 'occurred_at: 29 February in a leap year',
    event: send({ occurred_at: '2024-02-29T00:00:00Z' }),
    expected: okSend({ occurred_at: Date.parse('2024-02-29T00:00:00Z') }),
  },
  { name: 'occurred_at: integer epoch ms', event: send({ occurred_at: T + 123 }), expected: okSend({ occurred_at: T + 123 }) },
  {
    name: 'occurred_at: epoch ms written as 1654084800000.0',
    raw: JSON.stringify(send()).replace('"2022-06-01T12:00:00Z"', '1654084800000.0'),
    expected: okSend({ occurred_at: T }),
  },
  {
    name: 'occurred_at: epoch ms in exponent notation',
    raw: JSON.stringify(send()).replace('"2022-06-01T12:00:00Z"', '1.6540848e12'),
    expected: okSend({ occurred_at: T }),
  },

  // --- occurred_at: lower bound 2010-01-01 -------------------------------------------------------------------
  {
    name: 'occurred_at: 2010-01-01T00:00:00Z is the earliest',
    event: send({ occurred_at: '2010-01-01T00:00:00Z' }),
    expected: okSend({ occurred_at: MIN_TIME }),
  },
  { name: 'occurred_at: 2010-01-01 as epoch ms', event: send({ occurred_at: MIN_TIME }), expected: okSend({ occurred_at: MIN_TIME }) },
  {
    name: 'occurred_at: 2010-01-01T01:00:00+01:00 is the earliest too',
    event: send({ occurred_at: '2010-01-01T01:00:00+01:00' }),
    expected: okSend({ occurred_at: MIN_TIME }),
  },
  {
    name: 'occurred_at: 2009-12-31T23:00:00-01:00 is 2010-01-01Z',
    event: send({ occurred_at: '2009-12-31T23:00:00-01:00' }),
    expected: okSend({ occurred_at: MIN_TIME }),
  },
  {
    name: 'occurred_at: one ms before 2010 (text)',
    event: send({ occurred_at: '2009-12-31T23:59:59.999Z' }),
    expected: contract('$.occurred_at', /on or after 2010-01-01/),
  },
  {
    name: 'occurred_at: one ms before 2010 (epoch ms)',
    event: send({ occurred_at: MIN_TIME - 1 }),
    expected: contract('$.occurred_at', /on or after 2010-01-01/),
  },
  {
    name: 'occurred_at: 2010-01-01T00:30:00+01:00 is 2009 in UTC',
    event: send({ occurred_at: '2010-01-01T00:30:00+01:00' }),
    expected: contract('$.occurred_at', /on or after 2010-01-01/),
    validatorOnly: 'the pattern sees year 2010; only arithmetic with the offset finds 2009-12-31T23:30Z',
  },
  {
    name: 'occurred_at: 2009-12-31T22:59:59.999-01:00 is one ms before 2010',
    event: send({ occurred_at: '2009-12-31T22:59:59.999-01:00' }),
    expected: contract('$.occurred_at', /on or after 2010-01-01/),
    validatorOnly: 'the pattern lets 2009-12-31 with a negative offset through; only arithmetic decides',
  },
  {
    name: 'occurred_at: epoch seconds land in 1970',
    event: send({ occurred_at: 1_654_084_800 }),
    expected: contract('$.occurred_at', /on or after 2010-01-01, got 1970/),
  },
  { name: 'occurred_at: negative epoch', event: send({ occurred_at: -1 }), expected: contract('$.occurred_at', /on or after 2010-01-01/) },
  { name: 'occurred_at: year 2000', event: send({ occurred_at: '2000-02-29T00:00:00Z' }), expected: contract('$.occurred_at', /on or after 2010-01-01/) },

  // --- occurred_at: upper bound now + 1 day (validator only) -------------------------------------------------
  { name: 'occurred_at: exactly now + 1 day (epoch ms)', event: send({ occurred_at: NOW + DAY }), expected: okSend({ occurred_at: NOW + DAY }) },
  { name: 'occurred_at: exactly now + 1 day (text)', event: send({ occurred_at: iso(NOW + DAY) }), expected: okSend({ occurred_at: NOW + DAY }) },
  {
    name: 'occurred_at: exactly now + 1 day (text, +02:00)',
    event: send({ occurred_at: '2024-03-02T02:00:00+02:00' }),
    expected: okSend({ occurred_at: NOW + DAY }),
  },
  {
    name: 'occurred_at: now + 1 day + 1 ms (epoch ms)',
    event: send({ occurred_at: NOW + DAY + 1 }),
    expected: contract('$.occurred_at', /at most one day in the future/),
    validatorOnly: 'now + 1 day',
  },
  {
    name: 'occurred_at: now + 1 day + 1 ms (text)',
    event: send({ occurred_at: iso(NOW + DAY + 1) }),
    expected: contract('$.occurred_at', /at most one day in the future/),
    validatorOnly: 'now + 1 day',
  },
  {
    name: 'occurred_at: now + 1 day + 1 ms (text, +02:00)',
    event: send({ occurred_at: '2024-03-02T02:00:00.001+02:00' }),
    expected: contract('$.occurred_at', /at most one day in the future/),
    validatorOnly: 'now + 1 day',
  },
  {
    name: 'occurred_at: year 9999',
    event: send({ occurred_at: '9999-12-31T23:59:59Z' }),
    expected: contract('$.occurred_at', /at most one day in the future/),
    validatorOnly: 'now + 1 day',
  },
  {
    name: 'occurred_at: epoch ms beyond the range of Date',
    event: send({ occurred_at: 1e16 }),
    expected: contract('$.occurred_at', /at most one day in the future/),
    validatorOnly: 'now + 1 day',
  },
  {
    name: 'occurred_at: negative epoch ms beyond the range of Date',
    event: send({ occurred_at: -1e16 }),
    expected: contract('$.occurred_at', /on or after 2010-01-01/),
  },

  // --- occurred_at: rejected forms -------------------------------------------------------------------------
  { name: 'occurred_at: absent', event: send({ occurred_at: undefined }), expected: contract('$.occurred_at', /is required/) },
  { name: 'occurred_at: null', event: send({ occurred_at: null }), expected: contract('$.occurred_at', /must be a string or integer, got null/) },
  { name: 'occurred_at: boolean', event: send({ occurred_at: true }), expected: contract('$.occurred_at', /must be a string or integer, got boolean/) },
  { name: 'occurred_at: object', event: send({ occurred_at: { ms: T } }), expected: contract('$.occurred_at', /must be a string or integer, got object/) },
  {
    name: 'occurred_at: float epoch ms',
    event: send({ occurred_at: T + 0.5 }),
    expected: contract('$.occurred_at', /must be an integer, got 1654084800000\.5/),
  },
  {
    name: 'occurred_at: Infinity (1e999 in JSON)',
    raw: JSON.stringify(send()).replace('"2022-06-01T12:00:00Z"', '1e999'),
    expected: contract('$.occurred_at', /must be an integer, got Infinity/),
  },
  { name: 'occurred_at: epoch ms as a string', event: send({ occurred_at: String(T) }), expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/) },
  {
    name: 'occurred_at: no offset',
    event: send({ occurred_at: '2022-06-01T12:00:00' }),
    expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/),
  },
  { name: 'occurred_at: date only', event: send({ occurred_at: '2022-06-01' }), expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/) },
  { name: 'occurred_at: no seconds', event: send({ occurred_at: '2022-06-01T12:00Z' }), expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/) },
  {
    name: 'occurred_at: offset without a colon',
    event: send({ occurred_at: '2022-06-01T12:00:00+0200' }),
    expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/),
  },
  {
    name: 'occurred_at: ten fractional digits',
    event: send({ occurred_at: '2022-06-01T12:00:00.1234567890Z' }),
    expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/),
  },
  {
    name: 'occurred_at: prose date',
    event: send({ occurred_at: 'June 1, 2022 12:00 UTC' }),
    expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/),
  },
  { name: 'occurred_at: empty string', event: send({ occurred_at: '' }), expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/) },
  { name: 'occurred_at: 30 February', event: send({ occurred_at: '2022-02-30T00:00:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  {
    name: 'occurred_at: 29 February in a common year',
    event: send({ occurred_at: '2023-02-29T00:00:00Z' }),
    expected: contract('$.occurred_at', /not a valid date and time/),
  },
  { name: 'occurred_at: 31 April', event: send({ occurred_at: '2022-04-31T00:00:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  { name: 'occurred_at: month 13', event: send({ occurred_at: '2022-13-01T00:00:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  { name: 'occurred_at: month 00', event: send({ occurred_at: '2022-00-10T00:00:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  { name: 'occurred_at: day 00', event: send({ occurred_at: '2022-06-00T00:00:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  { name: 'occurred_at: hour 24', event: send({ occurred_at: '2022-06-01T24:00:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  { name: 'occurred_at: minute 60', event: send({ occurred_at: '2022-06-01T12:60:00Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  { name: 'occurred_at: second 61', event: send({ occurred_at: '2022-06-01T12:00:61Z' }), expected: contract('$.occurred_at', /not a valid date and time/) },
  {
    name: 'occurred_at: offset hour 24',
    event: send({ occurred_at: '2022-06-01T12:00:00+24:00' }),
    expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/),
  },
  {
    name: 'occurred_at: offset minute 60',
    event: send({ occurred_at: '2022-06-01T12:00:00-05:60' }),
    expected: contract('$.occurred_at', /RFC 3339 timestamp with offset/),
  },

  // --- business_id, user_id -------------------------------------------------------------------------------
  { name: 'business_id: 128 characters', event: send({ business_id: 'b'.repeat(128) }), expected: okSend({ business_id: 'b'.repeat(128) }) },
  { name: 'business_id: 128 non-ASCII characters', event: send({ business_id: 'é'.repeat(128) }), expected: okSend({ business_id: 'é'.repeat(128) }) },
  { name: 'business_id: 129 characters', event: send({ business_id: 'b'.repeat(129) }), expected: contract('$.business_id', /1.128 characters, got 129/) },
  { name: 'business_id: empty', event: send({ business_id: '' }), expected: contract('$.business_id', /1.128 characters, got 0/) },
  { name: 'business_id: absent', event: send({ business_id: undefined }), expected: contract('$.business_id', /is required/) },
  { name: 'business_id: number', event: send({ business_id: 42 }), expected: contract('$.business_id', /must be a string, got number/) },
  { name: 'user_id: 128 characters', event: send({ user_id: 'u'.repeat(128) }), expected: okSend({ user_id: 'u'.repeat(128) }) },
  { name: 'user_id: 129 characters', event: send({ user_id: 'u'.repeat(129) }), expected: contract('$.user_id', /1.128 characters, got 129/) },
  { name: 'user_id: empty', event: send({ user_id: '' }), expected: contract('$.user_id', /1.128 characters, got 0/) },
  { name: 'user_id: absent', event: send({ user_id: undefined }), expected: contract('$.user_id', /is required/) },
  { name: 'user_id: null', event: send({ user_id: null }), expected: contract('$.user_id', /must be a string, got null/) },

  // --- channel --------------------------------------------------------------------------------------------
  ...CHANNELS.map((channel): ContractCase => ({ name: `channel: ${channel}`, event: send({ channel }), expected: okSend({ channel }) })),
  { name: 'channel: unknown', event: send({ channel: 'sms' }), expected: contract('$.channel', /must be one of messenger, instagram, whatsapp; got "sms"/) },
  { name: 'channel: wrong case', event: send({ channel: 'WhatsApp' }), expected: contract('$.channel', /got "WhatsApp"/) },
  { name: 'channel: absent', event: send({ channel: undefined }), expected: contract('$.channel', /is required/) },
  { name: 'channel: null', event: send({ channel: null }), expected: contract('$.channel', /must be one of .*; got null/) },

  // --- regime ---------------------------------------------------------------------------------------------
  { name: 'regime: override kept', event: send({ regime: 'custom_test_regime' }), expected: okSend({ regime: 'custom_test_regime' }) },
  { name: 'regime: 64 characters', event: send({ regime: 'r'.repeat(64) }), expected: okSend({ regime: 'r'.repeat(64) }) },
  { name: 'regime: 65 characters', event: send({ regime: 'r'.repeat(65) }), expected: contract('$.regime', /at most 64 characters, got 65/) },
  { name: 'regime: null means derive it', event: send({ regime: null }), expected: okSend({ regime: null }) },
  { name: 'regime: number', event: send({ regime: 3 }), expected: contract('$.regime', /must be a string or null, got number/) },
  {
    name: 'regime: empty string',
    event: send({ regime: '' }),
    expected: contract('$.regime', /characters/),
  },

  // --- send: category, frequency ----------------------------------------------------------------------------
  ...SEND_CATEGORIES.filter((c) => c !== 'recurring_notification').map(
    (category): ContractCase => ({ name: `send: category ${category}`, event: send({ category }), expected: okSend({ category }) }),
  ),
  ...FREQUENCIES.map(
    (frequency): ContractCase => ({
      name: `send: recurring_notification with frequency ${frequency}`,
      event: send({ category: 'recurring_notification', frequency }),
      expected: okSend({ category: 'recurring_notification', frequency }),
    }),
  ),
  { name: 'send: category absent', event: send({ category: undefined }), expected: contract('$.category', /is required/) },
  {
    name: 'send: category not in the list',
    event: send({ category: 'promotion' }),
    expected: contract('$.category', /must be one of response, .*; got "promotion"/),
  },
  { name: 'send: category null', event: send({ category: null }), expected: contract('$.category', /got null/) },
  {
    name: 'send: recurring_notification without frequency (v1.1)',
    event: send({ category: 'recurring_notification' }),
    expected: okSend({ category: 'recurring_notification' }),
  },
  {
    name: 'send: recurring_notification with frequency null (v1.1)',
    event: send({ category: 'recurring_notification', frequency: null }),
    expected: okSend({ category: 'recurring_notification' }),
  },
  {
    name: 'send: frequency on a send of unknown category (v1.1)',
    event: send({ category: 'unknown', frequency: 'weekly' }),
    expected: contract('$.frequency', /must be absent or null unless category is recurring_notification \(category is unknown\)/),
  },
  {
    name: 'send: recurring_notification with an unknown frequency',
    event: send({ category: 'recurring_notification', frequency: 'hourly' }),
    expected: contract('$.frequency', /must be one of daily, weekly, monthly; got "hourly"/),
  },
  {
    name: 'send: frequency on a non-recurring send',
    event: send({ category: 'marketing_message', frequency: 'daily' }),
    expected: contract('$.frequency', /must be absent or null unless category is recurring_notification/),
  },
  { name: 'send: frequency null on a non-recurring send', event: send({ frequency: null }), expected: okSend() },

  // --- send: topic, campaign_id, cost_usd --------------------------------------------------------------------
  {
    name: 'send: every optional field set',
    event: send({ category: 'recurring_notification', frequency: 'weekly', topic: 'deals', campaign_id: 'spring-24', cost_usd: 0.0125, regime: 'r1' }),
    expected: okSend({ category: 'recurring_notification', frequency: 'weekly', topic: 'deals', campaign_id: 'spring-24', cost_usd: 0.0125, regime: 'r1' }),
  },
  { name: 'send: optional fields explicitly null', event: send({ topic: null, campaign_id: null, frequency: null, regime: null }), expected: okSend() },
  { name: 'send: topic 128 characters', event: send({ topic: 't'.repeat(128) }), expected: okSend({ topic: 't'.repeat(128) }) },
  { name: 'send: topic 129 characters', event: send({ topic: 't'.repeat(129) }), expected: contract('$.topic', /at most 128 characters, got 129/) },
  { name: 'send: topic empty string is kept', event: send({ topic: '' }), expected: okSend({ topic: '' }) },
  { name: 'send: topic number', event: send({ topic: 7 }), expected: contract('$.topic', /must be a string or null, got number/) },
  { name: 'send: campaign_id 128 characters', event: send({ campaign_id: 'c'.repeat(128) }), expected: okSend({ campaign_id: 'c'.repeat(128) }) },
  {
    name: 'send: campaign_id 129 characters',
    event: send({ campaign_id: 'c'.repeat(129) }),
    expected: contract('$.campaign_id', /at most 128 characters, got 129/),
  },
  { name: 'send: campaign_id array', event: send({ campaign_id: ['c'] }), expected: contract('$.campaign_id', /must be a string or null, got array/) },
  { name: 'send: cost_usd absent defaults to 0', event: send({ cost_usd: undefined }), expected: okSend({ cost_usd: 0 }) },
  { name: 'send: cost_usd null means 0', event: send({ cost_usd: null }), expected: okSend({ cost_usd: 0 }) },
  { name: 'send: cost_usd 0', event: send({ cost_usd: 0 }), expected: okSend({ cost_usd: 0 }) },
  { name: 'send: cost_usd 1e9 is the maximum', event: send({ cost_usd: 1e9 }), expected: okSend({ cost_usd: 1e9 }) },
  { name: 'send: cost_usd above 1e9', event: send({ cost_usd: 1e9 + 1 }), expected: contract('$.cost_usd', /at most 1e9/) },
  { name: 'send: cost_usd negative', event: send({ cost_usd: -0.01 }), expected: contract('$.cost_usd', /≥ 0, got -0.01/) },
  { name: 'send: cost_usd as a string', event: send({ cost_usd: '0.01' }), expected: contract('$.cost_usd', /must be a number, got string/) },
  { name: 'send: cost_usd boolean', event: send({ cost_usd: false }), expected: contract('$.cost_usd', /must be a number, got boolean/) },
  {
    name: 'send: cost_usd NaN (only possible before JSON)',
    event: send({ cost_usd: Number.NaN }),
    valueOnly: true,
    expected: contract('$.cost_usd', /must be a number/),
  },
  {
    name: 'send: cost_usd Infinity (1e999 in JSON)',
    raw: JSON.stringify(send({ cost_usd: 1 })).replace('"cost_usd":1', '"cost_usd":1e999'),
    expected: contract('$.cost_usd', /must be a number/),
  },

  // --- engagements ----------------------------------------------------------------------------------------
  ...ENGAGEMENT_TYPES.filter((t) => t !== 'converted').map(
    (type): ContractCase => ({ name: `engagement: ${type}`, event: engagement({ type }), expected: okEngagement({ type }) }),
  ),
  {
    name: 'engagement: converted with revenue',
    event: engagement({ type: 'converted', revenue_usd: 12.5 }),
    expected: okEngagement({ type: 'converted', revenue_usd: 12.5 }),
  },
  {
    name: 'engagement: converted without revenue defaults to 0',
    event: engagement({ type: 'converted' }),
    expected: okEngagement({ type: 'converted', revenue_usd: 0 }),
  },
  {
    name: 'engagement: converted with revenue null means 0',
    event: engagement({ type: 'converted', revenue_usd: null }),
    expected: okEngagement({ type: 'converted', revenue_usd: 0 }),
  },
  {
    name: 'engagement: converted with revenue 1e9',
    event: engagement({ type: 'converted', revenue_usd: 1e9 }),
    expected: okEngagement({ type: 'converted', revenue_usd: 1e9 }),
  },
  {
    name: 'engagement: converted with negative revenue',
    event: engagement({ type: 'converted', revenue_usd: -1 }),
    expected: contract('$.revenue_usd', /≥ 0, got -1/),
  },
  {
    name: 'engagement: converted with revenue as a string',
    event: engagement({ type: 'converted', revenue_usd: '12.50' }),
    expected: contract('$.revenue_usd', /must be a number, got string/),
  },
  {
    name: 'engagement: converted with revenue above 1e9',
    event: engagement({ type: 'converted', revenue_usd: 2e9 }),
    expected: contract('$.revenue_usd', /at most 1e9/),
  },
  {
    name: 'engagement: revenue on read',
    event: engagement({ type: 'read', revenue_usd: 5 }),
    expected: contract('$.revenue_usd', /only allowed on converted engagements \(type is read\)/),
  },
  {
    name: 'engagement: revenue on delivered',
    event: engagement({ type: 'delivered', revenue_usd: 0.01 }),
    expected: contract('$.revenue_usd', /only allowed on converted engagements \(type is delivered\)/),
  },
  {
    name: 'engagement: revenue string on clicked',
    event: engagement({ type: 'clicked', revenue_usd: '5' }),
    expected: contract('$.revenue_usd', /only allowed on converted/),
  },
  {
    name: 'engagement: revenue 0 on read is tolerated',
    event: engagement({ type: 'read', revenue_usd: 0 }),
    expected: okEngagement({ type: 'read', revenue_usd: 0 }),
  },
  {
    name: 'engagement: revenue null on replied is tolerated',
    event: engagement({ type: 'replied', revenue_usd: null }),
    expected: okEngagement({ type: 'replied', revenue_usd: 0 }),
  },
  { name: 'engagement: send_id 64 characters', event: engagement({ send_id: 's'.repeat(64) }), expected: okEngagement({ send_id: 's'.repeat(64) }) },
  { name: 'engagement: send_id 65 characters', event: engagement({ send_id: 's'.repeat(65) }), expected: contract('$.send_id', /1.64 characters, got 65/) },
  { name: 'engagement: send_id absent', event: engagement({ send_id: undefined }), expected: contract('$.send_id', /is required/) },
  { name: 'engagement: send_id empty', event: engagement({ send_id: '' }), expected: contract('$.send_id', /1.64 characters, got 0/) },
  { name: 'engagement: send_id number', event: engagement({ send_id: 17 }), expected: contract('$.send_id', /must be a string, got number/) },
  { name: 'engagement: common fields checked too', event: engagement({ channel: 'telegram' }), expected: contract('$.channel', /got "telegram"/) },

  // --- subscriptions --------------------------------------------------------------------------------------
  ...FREQUENCIES.map(
    (frequency): ContractCase => ({
      name: `subscription: opt_in with frequency ${frequency}`,
      event: subscription({ type: 'opt_in', frequency, topic: 'deals' }),
      expected: okSubscription({ type: 'opt_in', frequency, topic: 'deals' }),
    }),
  ),
  ...SUBSCRIPTION_TYPES.filter((t) => t !== 'opt_in').map(
    (type): ContractCase => ({ name: `subscription: ${type}`, event: subscription({ type }), expected: okSubscription({ type }) }),
  ),
  { name: 'subscription: opt_in without frequency (v1.1)', event: subscription({ type: 'opt_in' }), expected: okSubscription({ type: 'opt_in' }) },
  {
    name: 'subscription: opt_in with frequency null (v1.1)',
    event: subscription({ type: 'opt_in', frequency: null }),
    expected: okSubscription({ type: 'opt_in' }),
  },
  {
    name: 'subscription: opt_in with an unknown frequency',
    event: subscription({ type: 'opt_in', frequency: 'yearly' }),
    expected: contract('$.frequency', /must be one of daily, weekly, monthly; got "yearly"/),
  },
  {
    name: 'subscription: frequency on opt_out',
    event: subscription({ type: 'opt_out', frequency: 'weekly' }),
    expected: contract('$.frequency', /must be null unless type is opt_in \(type is opt_out\)/),
  },
  {
    name: 'subscription: frequency on block',
    event: subscription({ type: 'block', frequency: 'daily' }),
    expected: contract('$.frequency', /must be null unless type is opt_in \(type is block\)/),
  },
  {
    name: 'subscription: frequency null on opt_out',
    event: subscription({ type: 'opt_out', frequency: null, topic: null, reason: null }),
    expected: okSubscription(),
  },
  {
    name: 'subscription: reason 256 characters',
    event: subscription({ type: 'spam_report', reason: 'r'.repeat(256) }),
    expected: okSubscription({ type: 'spam_report', reason: 'r'.repeat(256) }),
  },
  {
    name: 'subscription: reason 257 characters',
    event: subscription({ type: 'spam_report', reason: 'r'.repeat(257) }),
    expected: contract('$.reason', /at most 256 characters, got 257/),
  },
  { name: 'subscription: reason number', event: subscription({ reason: 404 }), expected: contract('$.reason', /must be a string or null, got number/) },
  { name: 'subscription: topic kept', event: subscription({ topic: 'news' }), expected: okSubscription({ topic: 'news' }) },
  {
    name: 'subscription: topic 129 characters',
    event: subscription({ topic: 't'.repeat(129) }),
    expected: contract('$.topic', /at most 128 characters, got 129/),
  },
  {
    name: 'subscription: topic object',
    event: subscription({ topic: { name: 'news' } }),
    expected: contract('$.topic', /must be a string or null, got object/),
  },

  // --- forward compatibility: unknown fields are ignored and not copied ----------------------------------------
  {
    name: 'extra fields on a send are ignored',
    event: send({ schema_version: 2, locale: 'fr_FR', nested: { a: [1, 2, { b: null }] }, send_id: 'x', revenue_usd: -5, reason: 7 }),
    expected: okSend(),
  },
  {
    name: 'extra fields on an engagement are ignored',
    event: engagement({ category: 'nonsense', cost_usd: 'free', frequency: 'hourly', extra: true }),
    expected: okEngagement(),
  },
  {
    name: 'extra fields on a subscription are ignored',
    event: subscription({ campaign_id: 99, send_id: null, cost_usd: -1, extra: [] }),
    expected: okSubscription(),
  },
];
