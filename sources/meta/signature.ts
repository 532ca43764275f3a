// X-Hub-Signature-256: HMAC-SHA256 of the body's bytes as sent, keyed with the app secret. Computed on the bytes,
// never on re-serialised JSON (Meta escapes non-ASCII as \uXXXX, which JSON.stringify would not reproduce).
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

export function signBody(body: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

/** Whether `header` is the signature of `body`; compared in constant time. */
export function verifySignature(body: Buffer, header: string | undefined, appSecret: string): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signBody(body, appSecret));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
