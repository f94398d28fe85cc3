import type { DomainEvent } from '../decider';

export type OrganizationId = string & { readonly __brand: 'OrganizationId' };

export type OrganizationCreated = DomainEvent<'OrganizationCreated', { orgId: string; name: string; createdAt: string }>;
export type OrganizationRenamed = DomainEvent<'OrganizationRenamed', { orgId: string; name: string; renamedAt: string }>;
export type OrganizationEvent = OrganizationCreated | OrganizationRenamed;

export const ORGANIZATION_EVENT_TYPES: OrganizationEvent['type'][] = ['OrganizationCreated', 'OrganizationRenamed'];

export function organizationStream(orgId: string): string {
  return `organization-${orgId}`;
}
