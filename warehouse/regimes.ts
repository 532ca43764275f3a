// The regime table: which policy regime a channel was under on a given day.
import { readFileSync } from 'node:fs';
import { CHANNELS, type Channel } from '../events/types.js';

export interface Regime {
  channel: Channel;
  regime: string;
  /** Inclusive UTC date, YYYY-MM-DD. */
  start: string;
  /** Exclusive UTC date, or null when the regime is still in force. */
  end: string | null;
  label: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function loadDefaultRegimes(): Regime[] {
  const url = new URL('./regimes.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { regimes: Regime[] }).regimes;
}

/** Problems with a regime table, one message each; empty when the table is sound. */
export function checkRegimes(regimes: Regime[]): string[] {
  const problems: string[] = [];
  regimes.forEach((r, i) => {
    const at = `regimes[${i}]`;
    if (!CHANNELS.includes(r.channel)) problems.push(`${at}.channel: must be one of ${CHANNELS.join(', ')}`);
    if (typeof r.regime !== 'string' || !/^[a-z0-9_]{1,64}$/.test(r.regime)) problems.push(`${at}.regime: must match [a-z0-9_]{1,64}`);
    if (!DATE.test(r.start)) problems.push(`${at}.start: must be a date YYYY-MM-DD`);
    if (r.end !== null && !DATE.test(r.end)) problems.push(`${at}.end: must be a date YYYY-MM-DD or null`);
    if (r.end !== null && r.end <= r.start) problems.push(`${at}: end must be after start`);
  });
  for (const channel of CHANNELS) {
    const ranges = regimes.filter((r) => r.channel === channel).sort((a, b) => a.start.localeCompare(b.start));
    for (let i = 1; i < ranges.length; i++) {
      const prev = ranges[i - 1];
      if (prev.end === null || prev.end > ranges[i].start) {
        problems.push(`${channel}: ${prev.regime} [${prev.start}, ${prev.end ?? 'open'}) overlaps ${ranges[i].regime} starting ${ranges[i].start}`);
      }
    }
  }
  return problems;
}

/** A fast lookup from (channel, epoch ms) to regime name; events outside every range get 'unknown'. */
export function regimeResolver(regimes: Regime[]): (channel: Channel, occurredAtMs: number) => string {
  const byChannel = new Map<string, { start: number; end: number; regime: string }[]>();
  for (const r of regimes) {
    const list = byChannel.get(r.channel) ?? [];
    list.push({ start: Date.parse(`${r.start}T00:00:00Z`), end: r.end ? Date.parse(`${r.end}T00:00:00Z`) : Infinity, regime: r.regime });
    byChannel.set(r.channel, list);
  }
  for (const list of byChannel.values()) list.sort((a, b) => a.start - b.start);
  return (channel, ms) => {
    const list = byChannel.get(channel);
    if (!list) return 'unknown';
    for (let i = list.length - 1; i >= 0; i--) {
      if (ms >= list[i].start) return ms < list[i].end ? list[i].regime : 'unknown';
    }
    return 'unknown';
  };
}
