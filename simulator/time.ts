// Time helpers. All simulator times are UTC epoch milliseconds.

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** The contract's lower bound for occurred_at. */
export const CONTRACT_EARLIEST_MS = Date.parse('2010-01-01T00:00:00Z');

/** 'YYYY-MM-DD' (UTC midnight) or a full RFC 3339 timestamp to epoch ms. */
export function parseInstant(text: string, what: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new Error(`${what}: not a date: ${JSON.stringify(text)}`);
  return ms;
}

export function dayMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** The JSON text of occurred_at: a quoted RFC 3339 UTC string with milliseconds, or a bare epoch-ms integer. */
export function occurredAtJson(ms: number, asEpoch: boolean): string {
  return asEpoch ? String(ms) : `"${new Date(ms).toISOString()}"`;
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/** 'YYYY-MM' of an instant. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}
