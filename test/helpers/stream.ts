// A plain deterministic stream of valid events for Kafka tests that need volume rather than realism.
import type { ProducibleLine } from '../../ingest/produce.js';

export function* plainStream(n: number, tag: string): Generator<ProducibleLine> {
  const start = Date.parse('2023-03-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const user = `u${i % 997}`;
    const common = { occurred_at: start + i * 1000, business_id: `b${i % 13}`, user_id: user, channel: i % 5 === 0 ? 'whatsapp' : 'messenger' };
    const kind = i % 4;
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
