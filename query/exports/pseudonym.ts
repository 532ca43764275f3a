// Pseudonyms for exported identifiers: keyed HMAC-SHA256, computed inside the engine while it writes the export.
//
// pseudonym(domain, value) = hex(HMAC-SHA256(K, domain + ":" + value)),  K = HMAC-SHA256(secret, KEY_LABEL)
//
// The secret reaches the engine only as the typed query parameter {pl_secret:String}, and only as the key
// argument of HMAC(), which the engine masks ("[HIDDEN]") in column names, error messages and logs. The
// per-row HMAC is spelled out as two SHA256 passes over the key pads, because the engine's HMAC() is about
// 15x slower per row; the pads derive from K inside the query, so neither the secret nor K ever appears in
// SQL text. `pseudonymise` below is the same function in JS: tests check the two agree bit for bit.
import { createHmac } from 'node:crypto';

export const EXPORT_SECRET_ENV = 'POLICYLENS_EXPORT_SECRET';
/** Shorter secrets are refused: the pseudonyms are only as strong as the secret is hard to guess. */
export const MIN_SECRET_LENGTH = 16;
/** Derives the export key from the secret; a new label would give every pseudonym a new value. */
export const KEY_LABEL = 'policylens-export-v1';
export const SECRET_PARAM = 'pl_secret';

/** What a value identifies; the same raw string gets unrelated pseudonyms in different domains. */
export type PseudonymDomain = 'user' | 'business' | 'event' | 'campaign';

export type SecretState = { ok: true; secret: string } | { ok: false; reason: string };

/** Checks the secret as configured (config.exports.secret); only exports of identifiers need it. */
export function checkExportSecret(secret: string | null | undefined): SecretState {
  if (secret === null || secret === undefined || secret === '') return { ok: false, reason: `${EXPORT_SECRET_ENV} is not set.` };
  if (secret.length < MIN_SECRET_LENGTH) {
    return { ok: false, reason: `${EXPORT_SECRET_ENV} is shorter than ${MIN_SECRET_LENGTH} characters, which counts as not set.` };
  }
  return { ok: true, secret };
}

/** K = HMAC-SHA256(secret, KEY_LABEL). */
export const exportKey = (secret: string): Buffer => createHmac('sha256', secret).update(KEY_LABEL).digest();

/** The reference implementation: what the SQL below computes for one value. */
export const pseudonymise = (secret: string, domain: PseudonymDomain, value: string): string =>
  createHmac('sha256', exportKey(secret)).update(`${domain}:${value}`).digest('hex');

/**
 * 16 hex digits that tell whether two exports were made under the same secret (so their pseudonyms join)
 * without revealing anything about it: HMAC-SHA256(K, "key-fingerprint"), truncated.
 */
export const keyFingerprint = (secret: string): string => createHmac('sha256', exportKey(secret)).update('key-fingerprint').digest('hex').slice(0, 16);

/** Replaces the secret wherever it might appear in a message (belt and braces: the engine masks it already). */
export function redactSecret(message: string, secret: string | null): string {
  return secret ? message.split(secret).join('[secret]') : message;
}

/** The WITH clause defining the key pads; every query that calls sqlPseudonym must start with it. */
export const SQL_KEY_PADS = `WITH
  toFixedString(rightPad(HMAC('SHA256', '${KEY_LABEL}', {${SECRET_PARAM}:String}), 64, '\\0'), 64) AS pl_key,
  bitXor(pl_key, toFixedString(repeat(unhex('36'), 64), 64)) AS pl_ipad,
  bitXor(pl_key, toFixedString(repeat(unhex('5c'), 64), 64)) AS pl_opad`;

/** HMAC-SHA256(K, domain:expr) in lower-case hex; NULL stays NULL. `expr` is SQL written in this repository. */
export const sqlPseudonym = (expr: string, domain: PseudonymDomain): string =>
  `lower(hex(SHA256(concat(pl_opad, SHA256(concat(pl_ipad, '${domain}:', ${expr}))))))`;

export const PSEUDONYM_PATTERN = '^[0-9a-f]{64}$';
