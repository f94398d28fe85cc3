import { randomUUID } from 'node:crypto';
import { organizationDecider } from '../src/commands/organizations/organization.decider';
import { spec } from './support/decider-spec';
import {
  aCreateOrganization,
  anOrganizationCreated,
  anOrganizationReadingsRetentionSet,
  anOrganizationRenamed,
  anUpdateOrganization,
  aRenameOrganization,
} from './support/organization.builders';

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

    it('refuses an update with ORGANIZATION_NOT_FOUND (404)', () => {
      organization.given([]).when(anUpdateOrganization({ readingsRetentionDays: 30 })).thenThrows({ code: 'ORGANIZATION_NOT_FOUND', status: 404 });
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

  describe('readings retention', () => {
    const orgId = randomUUID();
    const created = anOrganizationCreated({ orgId, name: 'Acme' });
    const at = '2025-08-01T00:00:00.000Z';

    describe('when the platform default applies', () => {
      it('sets a retention of its own, stamped with the command time', () => {
        organization
          .given([created])
          .when(anUpdateOrganization({ orgId, readingsRetentionDays: 30, now: at }))
          .then([anOrganizationReadingsRetentionSet({ orgId, days: 30, setAt: at })]);
      });

      it('decides nothing for null (already the default) or for an update naming nothing', () => {
        organization.given([created]).when(anUpdateOrganization({ orgId, readingsRetentionDays: null })).then([]);
        organization.given([created]).when(anUpdateOrganization({ orgId })).then([]);
      });

      it('renames and sets the retention in one decision, rename first', () => {
        organization
          .given([created])
          .when(anUpdateOrganization({ orgId, name: 'Globex', readingsRetentionDays: 90, now: at }))
          .then([anOrganizationRenamed({ orgId, name: 'Globex', renamedAt: at }), anOrganizationReadingsRetentionSet({ orgId, days: 90, setAt: at })]);
      });
    });

    describe('when a retention is set', () => {
      const history = [created, anOrganizationReadingsRetentionSet({ orgId, days: 30 })];

      it('decides nothing for the same retention, and only the rename when the name changes', () => {
        organization.given(history).when(anUpdateOrganization({ orgId, readingsRetentionDays: 30 })).then([]);
        organization
          .given(history)
          .when(anUpdateOrganization({ orgId, name: 'Globex', readingsRetentionDays: 30, now: at }))
          .then([anOrganizationRenamed({ orgId, name: 'Globex', renamedAt: at })]);
      });

      it('changes it', () => {
        organization
          .given(history)
          .when(anUpdateOrganization({ orgId, readingsRetentionDays: 3650, now: at }))
          .then([anOrganizationReadingsRetentionSet({ orgId, days: 3650, setAt: at })]);
      });

      it('goes back to the platform default with null', () => {
        organization
          .given(history)
          .when(anUpdateOrganization({ orgId, readingsRetentionDays: null, now: at }))
          .then([anOrganizationReadingsRetentionSet({ orgId, days: null, setAt: at })]);
      });

      it('keeps the retention through a rename', () => {
        const renamed = [...history, anOrganizationRenamed({ orgId, name: 'Globex' })];
        organization.given(renamed).when(anUpdateOrganization({ orgId, readingsRetentionDays: 30 })).then([]);
      });
    });

    describe('when reset to the default', () => {
      const history = [created, anOrganizationReadingsRetentionSet({ orgId, days: 30 }), anOrganizationReadingsRetentionSet({ orgId, days: null })];

      it('decides nothing for null, and sets a retention again', () => {
        organization.given(history).when(anUpdateOrganization({ orgId, readingsRetentionDays: null })).then([]);
        organization
          .given(history)
          .when(anUpdateOrganization({ orgId, readingsRetentionDays: 30, now: at }))
          .then([anOrganizationReadingsRetentionSet({ orgId, days: 30, setAt: at })]);
      });
    });
  });
});
