import { randomUUID } from 'node:crypto';
import { organizationDecider } from '../src/commands/organizations/organization.decider';
import { spec } from './support/decider-spec';
import { aCreateOrganization, anOrganizationCreated, anOrganizationRenamed, aRenameOrganization } from './support/organization.builders';

const organization = spec(organizationDecider);

describe('Organization', () => {
  describe('when absent', () => {
    it('creates it from the command, stamped with the command time', () => {
      const orgId = randomUUID();
      organization
        .given([])
        .when(aCreateOrganization({ orgId, name: 'Acme', now: '2025-05-05T00:00:00.000Z' }))
        .then([anOrganizationCreated({ orgId, name: 'Acme', createdAt: '2025-05-05T00:00:00.000Z' })]);
    });

    it('refuses a rename with ORGANIZATION_NOT_FOUND (404)', () => {
      organization.given([]).when(aRenameOrganization()).thenThrows({ code: 'ORGANIZATION_NOT_FOUND', status: 404 });
    });
  });

  describe('when active', () => {
    const orgId = randomUUID();
    const history = [anOrganizationCreated({ orgId, name: 'Acme' })];

    it('refuses a second creation with CONFLICT (409)', () => {
      organization.given(history).when(aCreateOrganization({ orgId })).thenThrows({ code: 'CONFLICT', status: 409 });
    });

    it('renames it', () => {
      organization
        .given(history)
        .when(aRenameOrganization({ orgId, name: 'Globex', now: '2025-06-01T00:00:00.000Z' }))
        .then([anOrganizationRenamed({ orgId, name: 'Globex', renamedAt: '2025-06-01T00:00:00.000Z' })]);
    });

    it('decides nothing for a rename to the current name', () => {
      organization.given(history).when(aRenameOrganization({ orgId, name: 'Acme' })).then([]);
    });
  });

  describe('when renamed', () => {
    const orgId = randomUUID();
    const history = [anOrganizationCreated({ orgId, name: 'Acme' }), anOrganizationRenamed({ orgId, name: 'Globex' })];

    it('decides nothing for a rename to the name it was renamed to', () => {
      organization.given(history).when(aRenameOrganization({ orgId, name: 'Globex' })).then([]);
    });

    it('renames it back to its first name', () => {
      organization
        .given(history)
        .when(aRenameOrganization({ orgId, name: 'Acme', now: '2025-07-01T00:00:00.000Z' }))
        .then([anOrganizationRenamed({ orgId, name: 'Acme', renamedAt: '2025-07-01T00:00:00.000Z' })]);
    });

    it('still refuses a creation with CONFLICT (409)', () => {
      organization.given(history).when(aCreateOrganization({ orgId })).thenThrows({ code: 'CONFLICT', status: 409 });
    });
  });
});
