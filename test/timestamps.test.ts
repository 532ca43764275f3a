// occurred_at as RFC 3339 text: the quick path for the common UTC forms must agree with the general one.
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../events/parse.js';
import { Rng } from '../simulator/rng.js';
import { sendEvent } from './helpers/events.js';

const NOW = Date.parse('2026-11-25T00:00:00Z');
const occurredAt = (text: string) => {
  const r = parseEvent(JSON.stringify(sendEvent({ occurred_at: text })), NOW);
  return r.ok ? r.event.row.occurred_at : r.rejection.problem;
};

describe('occurred_at text', () => {
  it('reads 10,000 random instants in both UTC forms exactly as Date.parse does', () => {
    const rng = new Rng(11, 0);
    for (let i = 0; i < 10_000; i++) {
      const ms = Date.parse('2010-01-01T00:00:00Z') + Math.floor(rng.float() * (NOW - Date.parse('2010-01-01T00:00:00Z')));
      const iso = new Date(ms).toISOString();
      expect(occurredAt(iso)).toBe(ms);
      expect(occurredAt(`${iso.slice(0, 19)}Z`)).toBe(Math.floor(ms / 1000) * 1000);
    }
  });

  it('agrees with the general path on offsets, fractions and leap seconds', () => {
    expect(occurredAt('2024-02-29T23:59:59.999Z')).toBe(Date.parse('2024-02-29T23:59:59.999Z'));
    expect(occurredAt('2024-02-29T23:59:59.999+02:00')).toBe(Date.parse('2024-02-29T21:59:59.999Z'));
    expect(occurredAt('2024-03-01T00:00:00.5Z')).toBe(Date.parse('2024-03-01T00:00:00.500Z'));
    expect(occurredAt('2016-12-31T23:59:60Z')).toBe(Date.parse('2016-12-31T23:59:59Z'));
  });

  it('refuses dates that do not exist, in the quick forms too', () => {
    for (const bad of [
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00.000Z',
      '2024-13-01T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:00.00xZ',
      '2024-01-01T00:00:00',
    ]) {
      expect(typeof occurredAt(bad), bad).toBe('string');
    }
  });
});
