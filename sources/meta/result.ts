// What mapping one webhook body gives: contract events, counts of what has no place in the contract, and the
// problems that make the body a dead letter.
import type { Channel, PolicyEvent } from '../../events/types.js';

/** Why a body (or part of it) could not be mapped; the dead-letter reason. */
export type MapProblemReason = 'not_json' | 'unmappable' | 'contract';

export interface MapProblem {
  reason: MapProblemReason;
  /** JSON path into the body, `$` for all of it. */
  path: string;
  problem: string;
}

export interface MapResult {
  events: PolicyEvent[];
  /**
   * What was read but has no place in the contract (policy enforcement, template quality, an unknown field or object),
   * by kind: counted by the mapping stage, and kept in the raw topic for a better mapping later.
   */
  ignored: Record<string, number>;
  /** Not empty: the body goes to the dead-letter topic with the first problem's reason (its events still count). */
  problems: MapProblem[];
}

/** Collects one body's result; the per-object mappers write into it. */
export class ResultBuilder {
  readonly events: PolicyEvent[] = [];
  readonly ignored: Record<string, number> = {};
  readonly problems: MapProblem[] = [];

  ignore(kind: string): void {
    this.ignored[kind] = (this.ignored[kind] ?? 0) + 1;
  }

  problem(reason: MapProblemReason, path: string, problem: string): void {
    this.problems.push({ reason, path, problem });
  }

  result(): MapResult {
    return { events: this.events, ignored: this.ignored, problems: this.problems };
  }
}

/** The fields every event of one entry shares. */
export interface Party {
  channel: Channel;
  business_id: string;
  user_id: string;
}

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
/** An id Meta sends as a string, or sometimes as a number (app ids, some page ids in old payloads). */
export const idOf = (v: unknown): string | null => (nonEmptyString(v) ? v : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : null);
