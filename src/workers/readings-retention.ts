import { createHash } from 'node:crypto';

export const DAY_MS = 86_400_000;

/** An organization's own readings retention; null: the platform default. */
export interface OrganizationRetention {
  readonly orgId: string;
  readonly days: number | null;
}

/** Organizations whose readings in one storage window have all expired, and a fingerprint of that set. */
export interface ExpiredOrganizations {
  readonly orgIds: readonly string[];
  /** Changes when the set or one of its retentions changes: the window is purged again only then. */
  readonly policy: string;
}

/**
 * What retention means for storage at `now`. Windows (a day's partition or
 * chunk) are handled whole: a window ending at or before `dropBefore` is
 * older than every organization's retention and is dropped; in a younger
 * one, the rows of organizations whose shorter retention has passed the
 * window's end are deleted. A reading is thus kept at least its retention
 * and removed within a day after.
 */
export interface RetentionPlan {
  readonly defaultDays: number;
  readonly longestDays: number;
  readonly dropBefore: Date;
  expiredIn(windowEnd: Date): ExpiredOrganizations | undefined;
}

export function retentionPlan(organizations: readonly OrganizationRetention[], defaultDays: number, now: Date): RetentionPlan {
  const effective = organizations.map((o) => ({ orgId: o.orgId, days: o.days ?? defaultDays }));
  // No organization yet: the default still bounds what is kept.
  const longestDays = effective.reduce((longest, o) => Math.max(longest, o.days), effective.length > 0 ? 0 : defaultDays);
  const shorter = effective.filter((o) => o.days < longestDays).sort((a, b) => (a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : 0));
  return {
    defaultDays,
    longestDays,
    dropBefore: new Date(now.getTime() - longestDays * DAY_MS),
    expiredIn(windowEnd) {
      const expired = shorter.filter((o) => windowEnd.getTime() <= now.getTime() - o.days * DAY_MS);
      if (expired.length === 0) return undefined;
      const policy = createHash('sha256')
        .update(expired.map((o) => `${o.orgId}:${o.days}`).join(','))
        .digest('hex');
      return { orgIds: expired.map((o) => o.orgId), policy };
    },
  };
}

/** `YYYY-MM-DD` of an instant, in UTC (partitions are UTC days). */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

export function addDays(day: string, days: number): string {
  return utcDay(new Date(Date.parse(`${day}T00:00:00.000Z`) + days * DAY_MS));
}

export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}
