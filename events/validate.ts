// The event contract v1.1 as code: accepts an event and normalises it, or says exactly what is wrong and where.
import { CHANNELS, ENGAGEMENT_TYPES, FREQUENCIES, SEND_CATEGORIES, SUBSCRIPTION_TYPES, familyOfType, type NormalizedEvent } from './types.js';

/** Why an event was set aside; also the dead-letter reason header. */
export type RejectReason = 'too_large' | 'not_json' | 'unknown_type' | 'contract';

export interface Rejection {
  reason: RejectReason;
  /** JSON path of the offending field, `$` for the whole event. */
  path: string;
  problem: string;
}

export type ValidationResult = { ok: true; event: NormalizedEvent } | { ok: false; rejection: Rejection };

const MIN_TIME = Date.parse('2010-01-01T00:00:00Z');
const DAY_MS = 86_400_000;
// RFC 3339 with a mandatory offset; fractional seconds optional.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

class Reject extends Error {
  readonly path: string;
  readonly problem: string;
  readonly reason: RejectReason;
  constructor(path: string, problem: string, reason: RejectReason = 'contract') {
    super(problem);
    this.path = path;
    this.problem = problem;
    this.reason = reason;
  }
}

/** Length in characters (code points), as JSON Schema counts; ASCII-only strings take the fast path. */
function charLength(v: string, max: number): number {
  if (v.length <= max) return v.length; // a string no longer than max units has no more than max characters
  let n = 0;
  for (const _ of v) n++;
  return n;
}

// Date cannot format times beyond ±8.64e15 ms; such values are still rejected, just shown as numbers.
const showTime = (ms: number): string => (Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms));

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function requireString(e: Record<string, unknown>, field: string, max: number): string {
  const v = e[field];
  if (v === undefined) throw new Reject(`$.${field}`, 'is required');
  if (typeof v !== 'string') throw new Reject(`$.${field}`, `must be a string, got ${describe(v)}`);
  const n = charLength(v, max);
  if (n < 1 || n > max) throw new Reject(`$.${field}`, `must be 1–${max} characters, got ${n}`);
  return v;
}

function optionalString(e: Record<string, unknown>, field: string, max: number): string | null {
  const v = e[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw new Reject(`$.${field}`, `must be a string or null, got ${describe(v)}`);
  const n = charLength(v, max);
  if (n > max) throw new Reject(`$.${field}`, `must be at most ${max} characters, got ${n}`);
  return v;
}

function requireEnum<T extends string>(e: Record<string, unknown>, field: string, allowed: readonly T[]): T {
  const v = e[field];
  if (v === undefined) throw new Reject(`$.${field}`, 'is required');
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Reject(`$.${field}`, `must be one of ${allowed.join(', ')}; got ${JSON.stringify(v)}`);
  }
  return v as T;
}

function optionalEnum<T extends string>(e: Record<string, unknown>, field: string, allowed: readonly T[]): T | null {
  const v = e[field];
  if (v === undefined || v === null) return null;
  return requireEnum(e, field, allowed);
}

function money(e: Record<string, unknown>, field: string): number {
  const v = e[field];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Reject(`$.${field}`, `must be a number, got ${describe(v)}`);
  if (v < 0) throw new Reject(`$.${field}`, `must be ≥ 0, got ${v}`);
  if (v > 1e9) throw new Reject(`$.${field}`, `must be at most 1e9, got ${v}`);
  return v;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isDigit = (c: number) => c >= 48 && c <= 57;
const digits = (v: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = v.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + c - 48;
  }
  return n;
};

/**
 * `YYYY-MM-DDTHH:MM:SSZ` and `YYYY-MM-DDTHH:MM:SS.mmmZ`, the forms producers nearly always send, read without a
 * regular expression; NaN for anything else (a leap second included), which then takes the general path.
 */
function parseCommonUtc(v: string): number {
  const n = v.length;
  if ((n !== 20 && n !== 24) || v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':' || v[n - 1] !== 'Z') return NaN;
  const y = digits(v, 0, 4);
  const mo = digits(v, 5, 7);
  const d = digits(v, 8, 10);
  const h = digits(v, 11, 13);
  const mi = digits(v, 14, 16);
  const sec = digits(v, 17, 19);
  const ms = n === 24 ? (v[19] === '.' ? digits(v, 20, 23) : -1) : 0;
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0) return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1])) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
}

/** RFC 3339 text to epoch ms, computed from the fields: faster than Date.parse and strict about ranges. */
function parseRfc3339(v: string): number {
  const common = parseCommonUtc(v);
  if (!Number.isNaN(common)) return common;
  const m = RFC3339.exec(v);
  if (!m) throw new Reject('$.occurred_at', `must be an RFC 3339 timestamp with offset or epoch milliseconds, got ${JSON.stringify(v.slice(0, 40))}`);
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const month = +mo;
  const day = +d;
  const local = Date.UTC(+y, month - 1, day, +h, +mi, Math.min(+s, 59), frac ? Math.floor(Number(`0${frac}`) * 1000) : 0);
  const check = new Date(local);
  if (month < 1 || month > 12 || check.getUTCDate() !== day || +h > 23 || +mi > 59 || +s > 60) {
    throw new Reject('$.occurred_at', `is not a valid date and time: ${JSON.stringify(v)}`);
  }
  if (offset === 'Z' || offset === 'z') return local;
  const sign = offset[0] === '-' ? -1 : 1;
  return local - sign * (+offset.slice(1, 3) * 60 + +offset.slice(4, 6)) * 60_000;
}

function parseTime(v: unknown, now: number): number {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Reject('$.occurred_at', `epoch milliseconds must be an integer, got ${v}`);
    ms = v;
  } else if (typeof v === 'string') {
    ms = parseRfc3339(v);
  } else if (v === undefined) {
    throw new Reject('$.occurred_at', 'is required');
  } else {
    throw new Reject('$.occurred_at', `must be a string or integer, got ${describe(v)}`);
  }
  if (ms < MIN_TIME) throw new Reject('$.occurred_at', `must be on or after 2010-01-01, got ${showTime(ms)}`);
  if (ms > now + DAY_MS) throw new Reject('$.occurred_at', `must be at most one day in the future, got ${showTime(ms)}`);
  return ms;
}

function normalise(e: unknown, now: number): NormalizedEvent {
  if (!isRecord(e)) throw new Reject('$', `must be a JSON object, got ${describe(e)}`);
  const type = e.type;
  if (type === undefined) throw new Reject('$.type', 'is required');
  const family = familyOfType(type);
  const isSend = family === 'sends';
  const isEngagement = family === 'engagements';
  if (family === null) {
    throw new Reject(
      '$.type',
      `unknown event type ${JSON.stringify(type)}; expected send, ${ENGAGEMENT_TYPES.join(', ')}, ${SUBSCRIPTION_TYPES.join(', ')}`,
      'unknown_type',
    );
  }
  // Plain locals and one object literal per family: spreading a shared object was the validator's main cost.
  const event_id = requireString(e, 'event_id', 64);
  const occurred_at = parseTime(e.occurred_at, now);
  const business_id = requireString(e, 'business_id', 128);
  const user_id = requireString(e, 'user_id', 128);
  const channel = requireEnum(e, 'channel', CHANNELS);
  const regime = optionalString(e, 'regime', 64);
  if (regime === '') throw new Reject('$.regime', 'must be 1–64 characters, got 0; leave it out to derive the regime');
  if (isSend) {
    const category = requireEnum(e, 'category', SEND_CATEGORIES);
    const frequency = optionalEnum(e, 'frequency', FREQUENCIES);
    // v1.1: a recurring notification may lack its frequency (Meta stopped sending it with API v16).
    if (category !== 'recurring_notification' && frequency !== null) {
      throw new Reject('$.frequency', `must be absent or null unless category is recurring_notification (category is ${category})`);
    }
    return {
      family: 'sends',
      row: {
        event_id,
        occurred_at,
        business_id,
        user_id,
        channel,
        regime,
        category,
        frequency,
        topic: optionalString(e, 'topic', 128),
        campaign_id: optionalString(e, 'campaign_id', 128),
        cost_usd: money(e, 'cost_usd'),
      },
    };
  }
  if (isEngagement) {
    const engagementType = type as (typeof ENGAGEMENT_TYPES)[number];
    if (engagementType !== 'converted' && e.revenue_usd !== undefined && e.revenue_usd !== null && e.revenue_usd !== 0) {
      throw new Reject('$.revenue_usd', `is only allowed on converted engagements (type is ${engagementType})`);
    }
    return {
      family: 'engagements',
      row: {
        event_id,
        occurred_at,
        business_id,
        user_id,
        channel,
        regime,
        type: engagementType,
        send_id: requireString(e, 'send_id', 64),
        revenue_usd: money(e, 'revenue_usd'),
      },
    };
  }
  const subscriptionType = type as (typeof SUBSCRIPTION_TYPES)[number];
  const frequency = optionalEnum(e, 'frequency', FREQUENCIES);
  // v1.1: an opt_in may lack its frequency (WhatsApp opt-ins have none; Messenger's since API v16).
  if (subscriptionType !== 'opt_in' && frequency !== null) {
    throw new Reject('$.frequency', `must be null unless type is opt_in (type is ${subscriptionType})`);
  }
  return {
    family: 'subscriptions',
    row: {
      event_id,
      occurred_at,
      business_id,
      user_id,
      channel,
      regime,
      type: subscriptionType,
      topic: optionalString(e, 'topic', 128),
      frequency,
      reason: optionalString(e, 'reason', 256),
    },
  };
}

/** Validates an already-parsed event. `now` bounds how far in the future occurred_at may be. */
export function validateEvent(event: unknown, now: number = Date.now()): ValidationResult {
  try {
    return { ok: true, event: normalise(event, now) };
  } catch (err) {
    if (err instanceof Reject) return { ok: false, rejection: { reason: err.reason, path: err.path, problem: err.problem } };
    throw err;
  }
}

export function formatRejection(r: Rejection): string {
  return `${r.path}: ${r.problem}`;
}
