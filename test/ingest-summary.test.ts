import { describe, expect, it } from 'vitest';
import { ingestSummary } from '../ingest/run-ingest.js';

const stats = { consumed: 250_000, written: 249_000, duplicates: 900, deadLettered: 100, flushes: 3, rebuilt: 0, firstHeldAt: 1_000, lastCommittedAt: 3_500 };

describe('the ingest summary line', () => {
  it('gives the counts and the rate from the first message held to the last commit', () => {
    expect(ingestSummary(stats)).toBe('consumed 250000  written 249000  duplicates 900  dead-lettered 100  in 2.5 s (100,000 events/s)');
  });

  it('names rebuilt flushes, and gives no rate when nothing was written', () => {
    expect(ingestSummary({ ...stats, rebuilt: 2 })).toContain('flushes rebuilt 2');
    expect(ingestSummary({ ...stats, consumed: 0, written: 0, duplicates: 0, deadLettered: 0, firstHeldAt: null, lastCommittedAt: null })).toBe(
      'consumed 0  written 0  duplicates 0  dead-lettered 0',
    );
  });
});
