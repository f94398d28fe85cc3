import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Token format: `<tokenId>.<deviceId>.<secret>`, two lowercase UUIDs and 32
 * random bytes in base64url (43 characters). The ids are in clear so the
 * token can be looked up without an organization; the secret is stored only
 * as a SHA-256 hash (256 random bits need no slow hash).
 */
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TOKEN_PATTERN = new RegExp(`^(${UUID})\\.(${UUID})\\.([A-Za-z0-9_-]{43})$`);
const SECRET_BYTES = 32;

export interface ParsedRegistrationToken {
  readonly tokenId: string;
  readonly deviceId: string;
  readonly secret: string;
}

export interface GeneratedRegistrationToken {
  readonly token: string;
  readonly secretHash: string;
}

export function hashRegistrationSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateRegistrationToken(tokenId: string, deviceId: string): GeneratedRegistrationToken {
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { token: `${tokenId}.${deviceId}.${secret}`, secretHash: hashRegistrationSecret(secret) };
}

/** The parts of a well-formed token; undefined for anything else, before any lookup. */
export function parseRegistrationToken(text: string): ParsedRegistrationToken | undefined {
  const match = TOKEN_PATTERN.exec(text);
  if (!match) return undefined;
  const [, tokenId = '', deviceId = '', secret = ''] = match;
  // 43 characters carry 258 bits: only the encodings of exactly 32 bytes are accepted.
  if (Buffer.from(secret, 'base64url').toString('base64url') !== secret) return undefined;
  return { tokenId, deviceId, secret };
}

export function registrationSecretMatches(secret: string, secretHash: string): boolean {
  const actual = Buffer.from(hashRegistrationSecret(secret), 'hex');
  const expected = Buffer.from(secretHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
