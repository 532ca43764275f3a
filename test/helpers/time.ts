// Time arithmetic for hand-made events: epoch milliseconds in, ISO-8601 UTC out.
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const iso = (ms: number): string => new Date(ms).toISOString();
