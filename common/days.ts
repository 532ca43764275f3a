// UTC calendar days as YYYY-MM-DD strings, the form every date takes in the API, the queries and the charts.

export const DAY_MS = 86_400_000;
export const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const dayMs = (day: string): number => Date.parse(`${day}T00:00:00Z`);
export const addDays = (day: string, n: number): string => isoDay(dayMs(day) + n * DAY_MS);
