// When day sums are read, kept, shared and let go (query/metrics/day-partials.ts), without a warehouse: the reader
// is a function that counts its calls, and the version is a variable the test moves.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { buildDaySums, DayPartials, sumRange, type DayRow } from '../query/metrics/day-partials.js';

const rows = (n: number, group = 'a'): DayRow[] =>
  Array.from({ length: n }, (_, i) => ({ day: `2024-01-${String(i + 1).padStart(2, '0')}`, dims: [group], sums: [String(i + 1), '0.5'] }));

function setUp(limits = { maxRowsPerQuestion: 100, maxRows: 1_000 }) {
  let version = 'v1';
  let reads = 0;
  const cache = new DayPartials(async () => version, new Registry(), limits);
  const read = (n: number, group?: string) => async (cap: number) => {
    reads++;
    return rows(n, group).slice(0, cap);
  };
  return { cache, read, reads: () => reads, move: (v: string) => (version = v) };
}

describe('day sums', () => {
  it('are read on the second sighting of a question in a version, then reused', async () => {
    const s = setUp();
    expect(await s.cache.get('q', 'v1', s.read(10), 2)).toBeNull();
    expect(s.reads()).toBe(0);
    const first = await s.cache.get('q', 'v1', s.read(10), 2);
    expect(first?.rows).toBe(10);
    expect(await s.cache.get('q', 'v1', s.read(10), 2)).toBe(first);
    expect(s.reads()).toBe(1);
  });

  it('are shared by requests that arrive while they are read', async () => {
    const s = setUp();
    await s.cache.get('q', 'v1', s.read(10), 2);
    const both = await Promise.all([s.cache.get('q', 'v1', s.read(10), 2), s.cache.get('q', 'v1', s.read(10), 2)]);
    expect(both[0]).toBe(both[1]);
    expect(s.reads()).toBe(1);
  });

  it('are not kept when the version moved while they were read, and are read again in a new version', async () => {
    const s = setUp();
    await s.cache.get('q', 'v1', s.read(10), 2);
    const moving = async (cap: number) => {
      s.move('v2');
      return rows(10).slice(0, cap);
    };
    expect((await s.cache.get('q', 'v1', moving, 2))?.rows).toBe(10); // still this request's answer
    expect(await s.cache.get('q', 'v2', s.read(10), 2)).toBeNull(); // v2: first sighting
    expect((await s.cache.get('q', 'v2', s.read(10), 2))?.rows).toBe(10);
    expect(s.reads()).toBe(1);
  });

  it('are not used for a question with more rows than it may keep, which is not read again in that version', async () => {
    const s = setUp({ maxRowsPerQuestion: 5, maxRows: 1_000 });
    await s.cache.get('big', 'v1', s.read(10), 2);
    expect(await s.cache.get('big', 'v1', s.read(10), 2)).toBeNull();
    expect(await s.cache.get('big', 'v1', s.read(10), 2)).toBeNull();
    expect(s.reads()).toBe(1);
  });

  it('let the least recently used question go when all of them hold too many rows', async () => {
    const s = setUp({ maxRowsPerQuestion: 100, maxRows: 25 });
    for (const q of ['a', 'b', 'c']) {
      await s.cache.get(q, 'v1', s.read(10, q), 2);
      await s.cache.get(q, 'v1', s.read(10, q), 2);
    }
    expect(s.reads()).toBe(3);
    await s.cache.get('b', 'v1', s.read(10, 'b'), 2); // kept
    expect(s.reads()).toBe(3);
    await s.cache.get('a', 'v1', s.read(10, 'a'), 2); // let go for c: read again
    expect(s.reads()).toBe(4);
  });

  it('leave a failed read to the request’s own query', async () => {
    const s = setUp();
    await s.cache.get('q', 'v1', s.read(10), 2);
    expect(await s.cache.get('q', 'v1', () => Promise.reject(new Error('memory limit')), 2)).toBeNull();
    expect((await s.cache.get('q', 'v1', s.read(10), 2))?.rows).toBe(10);
  });

  it('sum any range of days, with groups of no sum left out', () => {
    const sums = buildDaySums([...rows(31, 'a'), { day: '2024-01-02', dims: ['b'], sums: ['0', '0'] }], 2);
    expect(sumRange(sums, ['sends', 'cost_usd'], '2024-01-03', '2024-01-05', true)).toEqual([
      { d0: 'a', o_sends: '12.000000000000', o_cost_usd: '1.500000000000' },
    ]);
    expect(sumRange(sums, ['sends', 'cost_usd'], '2024-02-01', '2024-02-05', true)).toEqual([]);
  });
});
