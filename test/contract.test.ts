// The event contract v1, case by case: every rule, accepted and rejected, through validateEvent and parseEvent.
// The table lives in test/contract-cases.ts so test/schemas.test.ts can run the same cases through the JSON Schemas.
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../events/parse.js';
import { formatRejection, validateEvent, type ValidationResult } from '../events/validate.js';
import { CASES, NOW, send, type ContractCase, type Expected } from './contract-cases.js';

function check(result: ValidationResult, expected: Expected): void {
  if (expected.ok) {
    // toStrictEqual: a field the contract does not know must not reach the row.
    expect(result).toStrictEqual({ ok: true, event: { family: expected.family, row: expected.row } });
    return;
  }
  if (result.ok) expect.fail(`expected a rejection at ${expected.path}, got an accepted ${result.event.family} row`);
  expect(result.rejection.reason).toBe(expected.reason);
  expect(result.rejection.path).toBe(expected.path);
  expect(result.rejection.problem).toMatch(expected.problem);
}

const hasEvent = (c: ContractCase): boolean => Object.hasOwn(c, 'event');
const wire = (c: ContractCase): string | Buffer => (c.raw !== undefined ? c.raw : JSON.stringify(c.event));

describe('the case table', () => {
  it('has unique names', () => {
    const names = CASES.map((c) => c.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it('gives every case exactly one input', () => {
    expect(CASES.filter((c) => hasEvent(c) === (c.raw !== undefined)).map((c) => c.name)).toEqual([]);
  });
});

describe('validateEvent', () => {
  for (const c of CASES.filter(hasEvent)) {
    it(c.name, () => check(validateEvent(c.event, NOW), c.expected));
  }
});

describe('parseEvent', () => {
  for (const c of CASES.filter((c) => !c.valueOnly)) {
    it(c.name, () => check(parseEvent(wire(c), NOW), c.expected));
  }
});

describe('around the table', () => {
  it('formats a rejection as `<path>: <problem>`', () => {
    const r = validateEvent(send({ channel: 'sms' }), NOW);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(formatRejection(r.rejection)).toBe(`$.channel: ${r.rejection.problem}`);
  });

  it('does not deduplicate: a repeated event_id is valid every time (the warehouse writer drops it)', () => {
    const first = validateEvent(send(), NOW);
    const again = validateEvent(send(), NOW);
    expect(first.ok && again.ok).toBe(true);
    expect(again).toStrictEqual(first);
  });

  it('defaults now to the clock', () => {
    const soon = Date.now() + 60_000;
    expect(validateEvent(send({ occurred_at: soon })).ok).toBe(true);
    expect(validateEvent(send({ occurred_at: Date.now() + 2 * 86_400_000 })).ok).toBe(false);
    expect(parseEvent(JSON.stringify(send({ occurred_at: soon }))).ok).toBe(true);
  });

  it('does not modify the event it is given', () => {
    const event = send({ extra: { deep: 1 }, cost_usd: null });
    const before = structuredClone(event);
    validateEvent(event, NOW);
    expect(event).toStrictEqual(before);
  });

  it('reports the first problem in field order when several are wrong', () => {
    const r = validateEvent(send({ event_id: '', channel: 'sms', cost_usd: -1 }), NOW);
    expect(r.ok ? null : r.rejection.path).toBe('$.event_id');
  });
});
