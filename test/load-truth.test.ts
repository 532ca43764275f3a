// The simulator's stream loaded from a file: the warehouse recovers exactly what the simulator wrote.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engagementByFrequencyAndRegime } from '../cli/summary.js';
import { loadFile, rejectedPathFor } from '../ingest/load-file.js';
import { simulateToFile, type Truth } from '../simulator/index.js';
import { expectWarehouseToMatchTruth } from './helpers/truth.js';
import { openTestWarehouse, type TestWarehouse } from './helpers/warehouse.js';

describe('loading a simulated file', () => {
  let t: TestWarehouse;
  let truth: Truth;
  let file: string;
  let first: Awaited<ReturnType<typeof loadFile>>;

  beforeAll(async () => {
    t = await openTestWarehouse();
    file = join(t.dir, 'sim.ndjson');
    truth = await simulateToFile({ events: 150_000, seed: 11, badRatio: 0.01, dupRatio: 0.02, out: file });
    first = await loadFile(file, t.writer, { batchRows: 20_000 });
  });
  afterAll(async () => t?.dispose());

  it('loads every valid event, drops every duplicate and rejects every bad line', () => {
    expect(first.loaded).toBe(truth.counts.valid);
    expect(first.duplicates).toBe(truth.counts.duplicates);
    expect(first.rejected).toBe(truth.counts.bad);
  });

  it('gives each rejected line a reason', () => {
    const lines = readFileSync(rejectedPathFor(file), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(truth.counts.bad);
    for (const l of lines) {
      expect(['not_json', 'too_large', 'unknown_type', 'contract']).toContain(l.reason);
      expect(l.error).toMatch(/^\$/);
    }
  });

  it('holds counts and money equal to the truth file, in raw tables and rollups', async () => {
    await expectWarehouseToMatchTruth(t.wh, truth);
  });

  it('gives the demo table recurring sends per frequency equal to the truth', async () => {
    const rows = await engagementByFrequencyAndRegime(t.wh, 72);
    const byFrequency: Record<string, number> = {};
    for (const r of rows) byFrequency[r.frequency] = (byFrequency[r.frequency] ?? 0) + r.sends;
    const want = truth.counts.sendsByFrequency as Record<string, number>;
    expect(byFrequency).toEqual({ daily: want.daily, weekly: want.weekly, monthly: want.monthly });
  });

  it('changes nothing when the file is loaded again', async () => {
    const again = await loadFile(file, t.writer, { batchRows: 7_000 });
    expect(again).toMatchObject({ loaded: 0, duplicates: truth.counts.valid + truth.counts.duplicates, rejected: truth.counts.bad });
    await expectWarehouseToMatchTruth(t.wh, truth);
  });
});
