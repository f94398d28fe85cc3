export interface RateLimits {
  /** Requests per minute per API key or user. */
  readonly perPrincipal: number;
  /** Requests per minute per organization, all callers together. */
  readonly perOrganization: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** The limit that decides (the tighter one, or the one that was hit). */
  readonly limitName: 'apiKey' | 'user' | 'organization';
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until a request is allowed again (or until the bucket is full). */
  readonly resetSeconds: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/**
 * Token buckets, refilled continuously, per principal and per organization.
 * Kept in process memory: with N API processes behind a balancer the
 * effective limit is up to N times higher (documented).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly limits: RateLimits, private readonly now: () => number = Date.now) {}

  take(principalKind: 'apiKey' | 'user', principal: string, orgId: string): RateDecision {
    const own = this.peek(`p:${principal}`, this.limits.perPrincipal);
    const org = this.peek(`o:${orgId}`, this.limits.perOrganization);
    if (own.tokens < 1) return this.denied(principalKind, this.limits.perPrincipal, own.tokens);
    if (org.tokens < 1) return this.denied('organization', this.limits.perOrganization, org.tokens);
    own.tokens -= 1;
    org.tokens -= 1;
    const ownTighter = own.tokens / this.limits.perPrincipal <= org.tokens / this.limits.perOrganization;
    const [name, limit, bucket] = ownTighter
      ? ([principalKind, this.limits.perPrincipal, own] as const)
      : (['organization', this.limits.perOrganization, org] as const);
    return {
      allowed: true,
      limitName: name,
      limit,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil(((limit - bucket.tokens) * 60) / limit),
    };
  }

  private peek(key: string, perMinute: number): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: perMinute, updated: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + ((now - bucket.updated) * perMinute) / 60_000);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    return bucket;
  }

  private denied(name: RateDecision['limitName'], limit: number, tokens: number): RateDecision {
    return { allowed: false, limitName: name, limit, remaining: 0, resetSeconds: Math.max(1, Math.ceil(((1 - tokens) * 60) / limit)) };
  }
}
