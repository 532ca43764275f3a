// Options of a simulation, checked once so the rest of the code can trust them.
import { CONTRACT_EARLIEST_MS, DAY, parseInstant } from './time.js';

export interface SimulateOptions {
  /** Valid unique events to write, exactly. */
  events: number;
  seed: number;
  /** Bad lines = round(events * badRatio). */
  badRatio?: number;
  /** Duplicate lines = round(events * dupRatio). */
  dupRatio?: number;
  /** Inclusive start, default '2019-01-01'. */
  from?: string;
  /** Exclusive end, default '2026-10-31'. */
  to?: string;
}

export interface ResolvedOptions {
  events: number;
  seed: number;
  badRatio: number;
  dupRatio: number;
  from: string;
  to: string;
  fromMs: number;
  toMs: number;
  badLines: number;
  duplicateLines: number;
}

export const DEFAULT_FROM = '2019-01-01';
export const DEFAULT_TO = '2026-10-31';

function ratio(value: number | undefined, name: string): number {
  const r = value ?? 0;
  if (!Number.isFinite(r) || r < 0 || r > 1) throw new Error(`${name} must be a number in [0, 1], got ${value}`);
  return r;
}

export function resolveOptions(opts: SimulateOptions, now: number = Date.now()): ResolvedOptions {
  const { events, seed } = opts;
  if (!Number.isSafeInteger(events) || events < 0) throw new Error(`events must be a non-negative integer, got ${events}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const badRatio = ratio(opts.badRatio, 'badRatio');
  const dupRatio = ratio(opts.dupRatio, 'dupRatio');
  const from = opts.from ?? DEFAULT_FROM;
  const to = opts.to ?? DEFAULT_TO;
  const fromMs = parseInstant(from, 'from');
  const toMs = parseInstant(to, 'to');
  if (fromMs < CONTRACT_EARLIEST_MS) throw new Error(`from must not be before 2010-01-01 (the contract rejects older events), got ${from}`);
  if (toMs - fromMs < DAY) throw new Error(`to must be at least one day after from (${from} .. ${to})`);
  // The contract rejects events later than now + 1 day; refuse rather than write invalid "valid" events.
  if (toMs > now + DAY) throw new Error(`to (${to}) is in the future: the contract rejects occurred_at later than now + 1 day`);
  return {
    events,
    seed,
    badRatio,
    dupRatio,
    from,
    to,
    fromMs,
    toMs,
    badLines: Math.round(events * badRatio),
    duplicateLines: Math.round(events * dupRatio),
  };
}
