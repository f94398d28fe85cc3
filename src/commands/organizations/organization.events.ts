import type { DomainEvent } from '../decider';

export type OrganizationId = string & { readonly __brand: 'OrganizationId' };

export type OrganizationCreated = DomainEvent<'OrganizationCreated', { orgId: string; name: string; createdAt: string }>;
export type OrganizationRenamed = DomainEvent<'OrganizationRenamed', { orgId: string; name: string; renamedAt: string }>;
/** How many days the organization's readings are kept; null: the platform default (READINGS_RETENTION_DAYS). */
export type OrganizationReadingsRetentionSet = DomainEvent<'OrganizationReadingsRetentionSet', { orgId: string; days: number | null; setAt: string }>;
export type OrganizationEvent = OrganizationCreated | OrganizationRenamed | OrganizationReadingsRetentionSet;

export const ORGANIZATION_EVENT_TYPES: OrganizationEvent['type'][] = ['OrganizationCreated', 'OrganizationRenamed', 'OrganizationReadingsRetentionSet'];

export function organizationStream(orgId: string): string {
  return `organization-${orgId}`;
}
