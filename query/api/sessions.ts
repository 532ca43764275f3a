// Dashboards sessions: what the browser keeps after `/dashboards/?key=…` instead of the key itself. A session is
// `<key tag>.<expiry>.<signature>`: the tag names the key without revealing it (keys.ts), the expiry is in Unix
// seconds, and an HMAC under the session secret signs both. It is no API key (the bearer check never reads it),
// so it opens the dashboards only; and its key is looked up at every request, so a revoked key's sessions end.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { KeyRing, Role } from '../../common/api-keys.js';

export interface Sessions {
  /** Milliseconds a new session lasts. */
  readonly ttlMs: number;
  /** A session for `key`, lasting `ttlMs` from `now`. */
  issue(key: string, now?: number): string;
  /** The role of the key behind a session, or null when it is forged, expired or its key is gone. */
  roleOf(token: string, now?: number): Role | null;
}

const SIGNED = 'policylens-dashboards-session\0';
const TOKEN = /^([A-Za-z0-9_-]{43})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

/** `secret` null: a random one, so sessions last only as long as this process. */
export function createSessions(keys: KeyRing, secret: string | null, ttlMs: number): Sessions {
  const key = secret === null ? randomBytes(32) : Buffer.from(secret, 'utf8');
  const sign = (body: string) => createHmac('sha256', key).update(SIGNED).update(body).digest();
  return {
    ttlMs,
    issue(apiKey, now = Date.now()) {
      const body = `${keys.tagOf(apiKey, key).toString('base64url')}.${Math.floor((now + ttlMs) / 1000)}`;
      return `${body}.${sign(body).toString('base64url')}`;
    },
    roleOf(token, now = Date.now()) {
      const m = TOKEN.exec(token);
      if (!m) return null;
      const given = Buffer.from(m[3], 'base64url');
      if (!timingSafeEqual(given, sign(`${m[1]}.${m[2]}`))) return null;
      if (Number(m[2]) * 1000 <= now) return null;
      return keys.roleOfTag(Buffer.from(m[1], 'base64url'), key);
    },
  };
}
