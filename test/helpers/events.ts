// Small hand-written events for tests that need exact, readable inputs.
let counter = 0;

export function sendEvent(over: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    event_id: `s-${counter}`,
    type: 'send',
    occurred_at: '2022-06-01T12:00:00.000Z',
    business_id: 'b1',
    user_id: `u${counter % 7}`,
    channel: 'messenger',
    category: 'recurring_notification',
    frequency: 'daily',
    topic: 'deals',
    campaign_id: null,
    cost_usd: 0.01,
    ...over,
  };
}

export function engagementEvent(sendId: string, type: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    event_id: `e-${counter}`,
    type,
    occurred_at: '2022-06-01T12:05:00.000Z',
    business_id: 'b1',
    user_id: 'u1',
    channel: 'messenger',
    send_id: sendId,
    ...(type === 'converted' ? { revenue_usd: 12.5 } : {}),
    ...over,
  };
}

export function subscriptionEvent(type: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  counter++;
  return {
    event_id: `u-${counter}`,
    type,
    occurred_at: '2022-06-01T12:10:00.000Z',
    business_id: 'b1',
    user_id: 'u1',
    channel: 'messenger',
    topic: null,
    frequency: type === 'opt_in' ? 'weekly' : null,
    reason: null,
    ...over,
  };
}

export const ndjson = (events: unknown[]): string => `${events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n')}\n`;
