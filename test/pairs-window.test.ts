// The spam_pairs rollup (migration 04) pairs each spam-risk event with the sends up to a fixed number of hours
// before it; the query path reads attribution from it only for windows up to PAIRS_MAX_WINDOW_HOURS. The two
// numbers must be the same: a rollup that pairs less than the constant claims would silently drop attributions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalizeQuery } from '../query/metrics/request.js';
import { planQuery } from '../query/metrics/query.js';
import { PAIRS_MAX_WINDOW_HOURS } from '../events/attribution.js';

const MIGRATION = readFileSync(new URL('../warehouse/migrations/04_query_rollups.sql', import.meta.url), 'utf8');

describe('the spam_pairs pairing limit', () => {
  it('is PAIRS_MAX_WINDOW_HOURS in every pairing of migration 04 (both views and the backfill)', () => {
    const hours = [...MIGRATION.matchAll(/INTERVAL\s+(\d+)\s+HOUR/gi)].map((m) => Number(m[1]));
    expect(hours).toEqual([PAIRS_MAX_WINDOW_HOURS, PAIRS_MAX_WINDOW_HOURS, PAIRS_MAX_WINDOW_HOURS]);
  });

  it('is where the query path switches attribution from spam_pairs to the raw tables', () => {
    const q = normalizeQuery({ metrics: ['opt_outs', 'unattributed_opt_outs'], date_range: ['2024-01-01', '2024-01-31'] });
    const at = (hours: number) => planQuery(q, { attributionWindowHours: hours });
    expect(at(PAIRS_MAX_WINDOW_HOURS).sources).toEqual({ sends: 'rollup', spam: 'rollup', unattributed: 'rollup' });
    expect(at(PAIRS_MAX_WINDOW_HOURS + 1).sources).toEqual({ sends: 'rollup', spam: 'raw', unattributed: 'raw' });
    expect(() => planQuery(q, { attributionWindowHours: PAIRS_MAX_WINDOW_HOURS + 1, source: 'rollup' })).toThrow(String(PAIRS_MAX_WINDOW_HOURS));
  });
});
