// Raw bytes or text of one event to a validated event: size, UTF-8 JSON, then the contract.
import { MAX_EVENT_BYTES } from './types.js';
import { validateEvent, type ValidationResult } from './validate.js';

// Fatal decoding: invalid UTF-8 is a rejection, not silently replaced characters.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseEvent(input: string | Buffer, now: number = Date.now()): ValidationResult {
  // UTF-8 needs at most 3 bytes per UTF-16 unit, so short strings skip the byte count.
  const size = typeof input !== 'string' ? input.length : input.length * 3 <= MAX_EVENT_BYTES ? 0 : Buffer.byteLength(input, 'utf8');
  if (size > MAX_EVENT_BYTES) {
    return { ok: false, rejection: { reason: 'too_large', path: '$', problem: `event is ${size} bytes; the limit is ${MAX_EVENT_BYTES}` } };
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : UTF8.decode(input));
  } catch (err) {
    return { ok: false, rejection: { reason: 'not_json', path: '$', problem: `not valid JSON: ${(err as Error).message}` } };
  }
  return validateEvent(value, now);
}
