import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyedByUser, messageSteps, valueStep } from '../ingest/steps.js';
import { sendEvent, subscriptionEvent } from './helpers/events.js';

const message = (value: string | null, over: Partial<KafkaMessage> = {}): KafkaMessage =>
  ({
    key: Buffer.from('u1'),
    value: value === null ? null : Buffer.from(value),
    offset: '0',
    timestamp: String(Date.now()),
    headers: {},
    attributes: 0,
    ...over,
  }) as KafkaMessage;

describe('the steps of one Kafka message', () => {
  it('sets a message with no value aside as not JSON, and says so', () => {
    expect(valueStep(message(null))).toEqual({ kind: 'dlq', reason: 'not_json', detail: '$: the message has no value' });
    expect(messageSteps(message(null), 'sends')).toEqual({ kind: 'dlq', reason: 'not_json', detail: '$: the message has no value' });
  });

  it("passes a valid event on its own topic, and sets one on another family's topic aside", () => {
    const send = JSON.stringify(sendEvent({ event_id: 'step-1', user_id: 'u1' }));
    const ok = messageSteps(message(send), 'sends');
    expect(ok.kind).toBe('ok');
    expect(ok.kind === 'ok' && ok.value.row.event_id).toBe('step-1');
    expect(messageSteps(message(send), 'engagements')).toMatchObject({ kind: 'dlq', reason: 'wrong_topic' });
    expect(messageSteps(message(JSON.stringify(subscriptionEvent('opt_out'))), 'sends')).toMatchObject({ kind: 'dlq', reason: 'wrong_topic' });
  });

  it('judges "too far in the future" against the message timestamp, not the clock', () => {
    const at = Date.parse('2022-06-01T12:00:00.000Z');
    const event = JSON.stringify(sendEvent({ occurred_at: '2022-06-03T12:00:00.000Z' }));
    expect(messageSteps(message(event, { timestamp: String(at) }), 'sends')).toMatchObject({ kind: 'dlq', reason: 'contract' });
    expect(messageSteps(message(event, { timestamp: String(at + 2 * 86_400_000) }), 'sends').kind).toBe('ok');
  });

  it('flags an event whose key is not its user_id', () => {
    const step = messageSteps(message(JSON.stringify(sendEvent({ user_id: 'u1' }))), 'sends');
    if (step.kind !== 'ok') throw new Error(step.detail);
    expect(keyedByUser(message('', { key: Buffer.from('u1') }), step.value)).toBe(true);
    expect(keyedByUser(message('', { key: Buffer.from('u2') }), step.value)).toBe(false);
    expect(keyedByUser(message('', { key: null }), step.value)).toBe(false);
  });
});
