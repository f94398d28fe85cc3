import { randomUUID } from 'node:crypto';
import type { OrganizationCommand } from '../../src/commands/organizations/organization.decider';
import type {
  OrganizationCreated,
  OrganizationReadingsRetentionSet,
  OrganizationRenamed,
} from '../../src/commands/organizations/organization.events';

const AT = '2025-01-02T03:04:05.000Z';

export function anOrganizationCreated(data: Partial<OrganizationCreated['data']> = {}): OrganizationCreated {
  return { type: 'OrganizationCreated', data: { orgId: randomUUID(), name: 'Acme', createdAt: AT, ...data } };
}

export function anOrganizationRenamed(data: Partial<OrganizationRenamed['data']> = {}): OrganizationRenamed {
  return { type: 'OrganizationRenamed', data: { orgId: randomUUID(), name: 'Acme Renamed', renamedAt: AT, ...data } };
}

export function anOrganizationReadingsRetentionSet(data: Partial<OrganizationReadingsRetentionSet['data']> = {}): OrganizationReadingsRetentionSet {
  return { type: 'OrganizationReadingsRetentionSet', data: { orgId: randomUUID(), days: 30, setAt: AT, ...data } };
}

export function aCreateOrganization(data: Partial<{ orgId: string; name: string; now: string }> = {}): OrganizationCommand {
  return { type: 'CreateOrganization', data: { orgId: randomUUID(), name: 'Acme', now: AT, ...data } };
}

export function aRenameOrganization(data: Partial<{ orgId: string; name: string; now: string }> = {}): OrganizationCommand {
  return { type: 'RenameOrganization', data: { orgId: randomUUID(), name: 'Acme Renamed', now: AT, ...data } };
}

export function anUpdateOrganization(
  data: { orgId?: string; name?: string; readingsRetentionDays?: number | null; now?: string } = {},
): OrganizationCommand {
  return { type: 'UpdateOrganization', data: { orgId: randomUUID(), now: AT, ...data } };
}
