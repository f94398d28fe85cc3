import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Iotplane-Signature';
/** How old a signed timestamp a receiver should accept, by default (docs/notifications.md). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

function hmac(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, the header value of one attempt. */
export function signWebhook(secret: string, body: string, at: Date): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${hmac(secret, t, body)}`;
}

/**
 * What a receiver does (and what the tests' receiver does): recompute the
 * HMAC over the raw body with the header's timestamp, compare in constant
 * time, and refuse a timestamp too far from its own clock (a replayed
 * request). Answers the reason for a refusal, or undefined when valid.
 */
export function verifyWebhook(secret: string, header: string | undefined, body: string, now: Date, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS): string | undefined {
  if (!header) return 'no signature header';
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const [key = '', ...value] = item.trim().split('=');
    parts.set(key, [...(parts.get(key) ?? []), value.join('=')]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isSafeInteger(t)) return 'no timestamp';
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return 'timestamp outside the tolerance';
  const expected = Buffer.from(hmac(secret, t, body), 'hex');
  // Several v1 values may be present (e.g. during a rotation on the sender's side): one match suffices.
  const match = (parts.get('v1') ?? []).some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return match ? undefined : 'signature mismatch';
}
