// API keys of the API and collect: read from POLICYLENS_API_KEYS (a file of key:role lines, or key:role,key:role),
// held only as hashes.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.js';
import { existsSync, readFileSync } from 'node:fs';

export const ROLES = ['analyst', 'product', 'researcher', 'admin', 'producer'] as const;
export type Role = (typeof ROLES)[number];
/** `ingest` is collect's POST /v1/events; every other permission is the API's. */
export type Permission = 'query' | 'dashboards' | 'exports' | 'regimes' | 'ingest';

// A producer (a shop, a send log) may only write events: a key that sits in another system reads nothing back.
const GRANTS: Record<Role, Permission[]> = {
  analyst: ['query', 'dashboards'],
  product: ['query'],
  researcher: ['query', 'exports'],
  admin: ['query', 'dashboards', 'exports', 'regimes', 'ingest'],
  producer: ['ingest'],
};

export const roleMay = (role: Role, permission: Permission): boolean => GRANTS[role].includes(permission);

export function assertRoleMay(role: Role, permission: Permission): void {
  if (!roleMay(role, permission)) throw new ApiError('FORBIDDEN', `Role ${role} lacks "${permission}".`);
}

/** The key of an `Authorization: Bearer <key>` header, or null. */
export function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m ? m[1] : null;
}

export interface KeyRing {
  /** The role of a presented key, or null; compares every stored hash in constant time. */
  roleOf(key: string): Role | null;
  /**
   * A name for a key that does not reveal it without `secret` (an HMAC of its hash), so a session can say whose it
   * is; `roleOfTag` finds the key again, or null once the key is gone.
   */
  tagOf(key: string, secret: Buffer): Buffer;
  roleOfTag(tag: Buffer, secret: Buffer): Role | null;
  size: number;
}

const hash = (key: string) => createHash('sha256').update(key).digest();
const tagOfDigest = (digest: Buffer, secret: Buffer) => createHmac('sha256', secret).update('policylens-key-tag\0').update(digest).digest();

export function parseKeySpec(spec: string): { key: string; role: Role }[] {
  const text = existsSync(spec) ? readFileSync(spec, 'utf8') : spec;
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'))
    .map((entry) => {
      const i = entry.lastIndexOf(':');
      const key = entry.slice(0, i);
      const role = entry.slice(i + 1) as Role;
      if (i <= 0 || !ROLES.includes(role))
        throw new Error(`POLICYLENS_API_KEYS: "${entry.replace(/^(.{4}).*(:.*)$/, '$1…$2')}" must be key:role with role one of ${ROLES.join(', ')}`);
      if (key.length < 16) throw new Error('POLICYLENS_API_KEYS: every key must be at least 16 characters');
      return { key, role };
    });
}

export function createKeyRing(entries: { key: string; role: Role }[]): KeyRing {
  const stored = entries.map((e) => ({ digest: hash(e.key), role: e.role }));
  return {
    size: stored.length,
    roleOf(key) {
      const d = hash(key);
      let found: Role | null = null;
      // Every entry is compared, so timing says nothing about which key (if any) matched.
      for (const s of stored) if (timingSafeEqual(s.digest, d)) found = s.role;
      return found;
    },
    tagOf: (key, secret) => tagOfDigest(hash(key), secret),
    roleOfTag(tag, secret) {
      if (tag.length !== 32) return null;
      let found: Role | null = null;
      for (const s of stored) if (timingSafeEqual(tagOfDigest(s.digest, secret), tag)) found = s.role;
      return found;
    },
  };
}
