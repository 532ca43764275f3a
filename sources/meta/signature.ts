// Meta signs each webhook POST: X-Hub-Signature-256 is `sha256=` and the hex HMAC-SHA256 of the body's bytes as
// sent, keyed with the app secret. The bytes as received are what is hashed: parsed and re-serialised JSON differs
// (Meta escapes non-ASCII as \u00e9, for one), so a body is never parsed before its signature holds. The simulator
// signs with this and collect checks with it: one rule.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';

/** The header Meta would send for `body`. */
export const signBody = (body: Buffer | string, appSecret: string): string => `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;

/** Whether `header` is the signature of `body` under `appSecret`, compared in constant time. */
export function verifySignature(body: Buffer, header: string | string[] | undefined, appSecret: string): boolean {
  if (typeof header !== 'string') return false;
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!m) return false;
  const expected = createHmac('sha256', appSecret).update(body).digest();
  return timingSafeEqual(Buffer.from(m[1], 'hex'), expected);
}
