// A plain deterministic stream of valid events for Kafka tests that need volume rather than realism.
import type { ProducibleLine } from '../../ingest/produce.js';

// Event i is a send (i % 4 = 0), a delivered or read of the send before it (1, 2) or an opt-out (3). An engagement
// belongs to its send's business, user and channel, as in real data and the simulator: with several ingest
// processes the rollups are exact only when a send and its engagements share a user, hence a partition number
// (docs/ingest.md "Several ingest processes"). Engagements of another user than their send made two members write
// each other's pairs at the same moment and the rollups miss about one pair in ten.
export function* plainStream(n: number, tag: string): Generator<ProducibleLine> {
  const start = Date.parse('2023-03-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const kind = i % 4;
    const owner = kind === 1 || kind === 2 ? i - kind : i; // the send an engagement belongs to
    const user = `u${owner % 997}`;
    const common = { occurred_at: start + i * 1000, business_id: `b${owner % 13}`, user_id: user, channel: owner % 5 === 0 ? 'whatsapp' : 'messenger' };
    if (kind === 0) {
      yield {
        key: user,
        family: 'sends',
        line: JSON.stringify({ event_id: `${tag}-${i}`, type: 'send', category: 'message_tag', cost_usd: 0.001, ...common }),
      };
    } else if (kind === 3) {
      yield { key: user, family: 'subscriptions', line: JSON.stringify({ event_id: `${tag}-${i}`, type: 'opt_out', ...common }) };
    } else {
      yield {
        key: user,
        family: 'engagements',
        line: JSON.stringify({ event_id: `${tag}-${i}`, type: kind === 1 ? 'delivered' : 'read', send_id: `${tag}-${i - kind}`, ...common }),
      };
    }
  }
}

export const expectedFamilies = (n: number) => ({
  sends: Math.ceil(n / 4),
  engagements: Math.ceil((n - 1) / 4) + Math.ceil((n - 2) / 4),
  subscriptions: Math.ceil((n - 3) / 4),
});
