// Pipeline steps return a result instead of throwing: ok goes on, dlq goes aside with its reason. A Kafka message
// passes value → parse → topic (`messageSteps`); a line of a file passes parse alone. (Duplicates are dropped later,
// by the writer, which is the only place that knows which ids were accepted.)
import type { KafkaMessage } from 'kafkajs';
import { parseEvent } from '../events/parse.js';
import type { EventFamily, NormalizedEvent } from '../events/types.js';
import { formatRejection, type RejectReason } from '../events/validate.js';

export type StepResult<T> = { kind: 'ok'; value: T } | { kind: 'dlq'; reason: RejectReason | 'wrong_topic'; detail: string };

/** A Kafka message with no value (a tombstone, or a producer bug) holds no event; it is not JSON either. */
export function valueStep(message: KafkaMessage): StepResult<Buffer> {
  if (message.value !== null) return { kind: 'ok', value: message.value };
  return { kind: 'dlq', reason: 'not_json', detail: '$: the message has no value' };
}

/** Bytes of one message or line to a validated event. */
export function parseStep(input: string | Buffer, now: number): StepResult<NormalizedEvent> {
  const result = parseEvent(input, now);
  if (result.ok) return { kind: 'ok', value: result.event };
  return { kind: 'dlq', reason: result.rejection.reason, detail: formatRejection(result.rejection) };
}

/** An event must arrive on its own family's topic; a send on the engagements topic is a producer bug. */
export function topicStep(event: NormalizedEvent, expected: EventFamily): StepResult<NormalizedEvent> {
  if (event.family === expected) return { kind: 'ok', value: event };
  return { kind: 'dlq', reason: 'wrong_topic', detail: `a ${event.family} event arrived on the ${expected} topic` };
}

/** Every step of one Kafka message from a topic of `family`, in order; the first dlq ends it. */
export function messageSteps(message: KafkaMessage, family: EventFamily): StepResult<NormalizedEvent> {
  const bytes = valueStep(message);
  if (bytes.kind === 'dlq') return bytes;
  // "Too far in the future" is judged against the message's own timestamp, so a rebuild judges it the same.
  const stamp = Number(message.timestamp);
  const parsed = parseStep(bytes.value, stamp > 0 ? stamp : Date.now());
  if (parsed.kind === 'dlq') return parsed;
  return topicStep(parsed.value, family);
}

/**
 * Not a step, since the event is valid and written: one whose Kafka key is not its user_id is counted exactly in the
 * raw tables, but with several ingest processes the rollups may miss its pairs (docs/ingest.md), so it is flagged.
 */
export function keyedByUser(message: KafkaMessage, event: NormalizedEvent): boolean {
  return message.key !== null && message.key.toString() === event.row.user_id;
}
