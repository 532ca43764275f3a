import { describe, expect, it } from 'vitest';
import { announcement, canonicalOrder, chunkForAnnouncement, MAX_ANNOUNCEMENT_CHARS, parseAnnouncement, type AnnouncedRange } from '../ingest/announcement.js';

const own = { family: 'sends' as const, partition: 2, committed: 40n };

describe('flush announcements in commit metadata', () => {
  it('round-trips every range of a flush in canonical order', () => {
    const ranges: AnnouncedRange[] = [
      { family: 'subscriptions', partition: 0, first: 5n, last: 9n },
      { family: 'sends', partition: 3, first: 100n, last: 18_446_744_073_709n },
      { family: 'engagements', partition: 1, first: 0n, last: 0n },
      { family: 'sends', partition: 1, first: 7n, last: 8n },
    ];
    const text = announcement(ranges);
    expect(text).toBe('flush:s1@7-8,s3@100-18446744073709,e1@0-0,u0@5-9');
    expect(parseAnnouncement(text, own)).toEqual(canonicalOrder(ranges));
  });

  it('reads the older one-partition form from the committed offset', () => {
    expect(parseAnnouncement('pending:57', own)).toEqual([{ family: 'sends', partition: 2, first: 40n, last: 57n }]);
  });

  it('announces nothing for empty or foreign metadata, and refuses a damaged announcement', () => {
    expect(parseAnnouncement(null, own)).toBeNull();
    expect(parseAnnouncement('', own)).toBeNull();
    expect(parseAnnouncement('written by another tool', own)).toBeNull();
    expect(() => parseAnnouncement('flush:s1@7-8,x9@1-2', own)).toThrow(/unreadable flush announcement/);
  });

  it('splits a flush over many partitions into announcements that fit the metadata limit', () => {
    const ranges: AnnouncedRange[] = [];
    for (const family of ['sends', 'engagements', 'subscriptions'] as const) {
      for (let p = 0; p < 128; p++) ranges.push({ family, partition: p, first: 1_000_000_000n + BigInt(p), last: 2_000_000_000n + BigInt(p) });
    }
    const chunks = chunkForAnnouncement(ranges);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(announcement(c).length).toBeLessThanOrEqual(MAX_ANNOUNCEMENT_CHARS);
    expect(chunks.flat()).toEqual(canonicalOrder(ranges));
    expect(chunkForAnnouncement(ranges.slice(0, 5))).toHaveLength(1);
  });
});
