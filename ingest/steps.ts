// Pipeline steps return a result instead of throwing: ok goes on, dlq goes aside with its reason. (Duplicates are
// dropped later, by the writer, which is the only place that knows which ids were accepted.)
import { parseEvent } from '../events/parse.js';
import type { EventFamily, NormalizedEvent } from '../events/types.js';
import { formatRejection, type RejectReason } from '../events/validate.js';

export type StepResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'dlq'; reason: RejectReason | 'wrong_topic'; detail: string };

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
