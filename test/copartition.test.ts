import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { copartitionedAssignment } from '../ingest/copartition-assigner.js';
import { holdMessage, PartitionBuffers } from '../ingest/partition-buffers.js';
import { BatchWriter } from '../warehouse/writer.js';
import { sendEvent } from './helpers/events.js';
import { plainStream } from './helpers/stream.js';

const topics = (n: number) => ({ sends: [...Array(n).keys()], engagements: [...Array(n).keys()], subscriptions: [...Array(n).keys()] });

describe('co-partitioned assignment', () => {
  it('gives each member the same partition numbers of every topic, and every partition to exactly one member', () => {
    for (const members of [['a'], ['b', 'a'], ['m3', 'm1', 'm2'], ['x', 'y', 'z', 'w', 'v', 'u', 't']]) {
      const result = copartitionedAssignment(members, topics(6));
      expect([...result.keys()].sort()).toEqual([...members].sort());
      const owners = new Map<string, string>();
      for (const [member, byTopic] of result) {
        const numbers = Object.values(byTopic).map((ps) => JSON.stringify(ps));
        expect(new Set(numbers).size).toBeLessThanOrEqual(1); // the same numbers on every topic
        for (const [topic, ps] of Object.entries(byTopic)) {
          for (const p of ps) {
            expect(owners.has(`${topic}:${p}`)).toBe(false);
            owners.set(`${topic}:${p}`, member);
          }
        }
      }
      expect(owners.size).toBe(18);
    }
  });

  it('spreads partition numbers evenly, and the result does not depend on the order members are listed in', () => {
    const one = copartitionedAssignment(['c', 'a', 'b'], topics(7));
    const two = copartitionedAssignment(['b', 'c', 'a'], topics(7));
    expect([...one].sort()).toEqual([...two].sort());
    const sizes = [...one.values()].map((t) => t.sends?.length ?? 0).sort();
    expect(sizes).toEqual([2, 2, 3]);
  });

  it('leaves members with nothing when there are more members than partitions', () => {
    const result = copartitionedAssignment(['a', 'b', 'c', 'd'], topics(2));
    expect([...result.values()].filter((t) => Object.keys(t).length === 0)).toHaveLength(2);
  });
});

describe('events not keyed by user_id', () => {
  // Building a row's insert line needs no warehouse, only the regime of rows that name none.
  const writer = new BatchWriter(null as never, () => 'some_regime');
  const message = (key: string | null, value: string, offset: number): KafkaMessage =>
    ({
      key: key === null ? null : Buffer.from(key),
      value: Buffer.from(value),
      offset: String(offset),
      timestamp: String(Date.now()),
      headers: {},
      attributes: 0,
    }) as KafkaMessage;

  it('are flagged when held, while events keyed by their user and dead letters are not', () => {
    const buf = PartitionBuffers.detached('t.sends', 0, 'sends');
    const send = sendEvent({ user_id: 'user-7' });
    expect(holdMessage(buf, message('user-7', JSON.stringify(send), 0), writer)).toBe(false);
    expect(holdMessage(buf, message(String(send.event_id), JSON.stringify({ ...send, event_id: 'other-1' }), 1), writer)).toBe(true);
    expect(holdMessage(buf, message(null, JSON.stringify({ ...send, event_id: 'other-2' }), 2), writer)).toBe(true);
    expect(holdMessage(buf, message('user-7', '{not json', 3), writer)).toBe(false);
    expect(buf.ids).toEqual([send.event_id, 'other-1', 'other-2']); // flagged events are still written
    expect(buf.deadLetters).toHaveLength(1);
  });
});

describe('the stream of the Kafka tests', () => {
  // Several members write it at once (rebalance, rebuild): its pairs must be co-partitioned for the rollups to be exact.
  it('keys every engagement by its send user, which is also the engagement user', () => {
    const sendKeys = new Map<string, string>();
    let engagements = 0;
    for (const l of plainStream(2_000, 'x')) {
      const e = JSON.parse(l.line) as { event_id: string; user_id: string; send_id?: string };
      expect(l.key).toBe(e.user_id);
      if (l.family === 'sends') sendKeys.set(e.event_id, l.key);
      if (l.family === 'engagements') {
        expect(sendKeys.get(e.send_id!), e.event_id).toBe(l.key);
        engagements++;
      }
    }
    expect(engagements).toBe(1_000);
  });
});
