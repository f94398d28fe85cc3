import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Key format: `sk_<live|test>_<12-char lookup id>_<43-char secret>`.
 * The lookup prefix (`sk_live_<id>`) is stored in clear for lookup; the whole
 * key only as a SHA-256 hash (keys carry 256 random bits, so a slow hash adds
 * nothing).
 */
const KEY_PATTERN = /^(sk_(?:live|test)_[A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export type ApiKeyMode = 'live' | 'test';

export interface GeneratedApiKey {
  readonly plaintext: string;
  readonly prefix: string;
  readonly secretHash: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function lookupId(): string {
  const bytes = randomBytes(12);
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join('');
}

export function hashApiKey(plaintext: string): string {
  return createHash('sha256').update(plaintext).digest('hex');
}

export function generateApiKey(mode: ApiKeyMode = 'live'): GeneratedApiKey {
  const prefix = `sk_${mode}_${lookupId()}`;
  const plaintext = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { plaintext, prefix, secretHash: hashApiKey(plaintext) };
}

/** The lookup prefix of a well-formed key; undefined for anything else. */
export function apiKeyPrefix(text: string): string | undefined {
  return KEY_PATTERN.exec(text)?.[1];
}

export function apiKeyMatches(plaintext: string, secretHash: string): boolean {
  const actual = Buffer.from(hashApiKey(plaintext), 'hex');
  const expected = Buffer.from(secretHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
