import { assertNever } from '../commands/decider';
import { ORGANIZATION_EVENT_TYPES, type OrganizationEvent } from '../commands/organizations/organization.events';
import { ident, orgIdOf, type Projection } from './projection';

/** One row per organization; `version` is the stream revision (ETag), so a replayed event changes nothing. */
export const organizationsProjection: Projection = {
  name: 'organizations',
  tables: ['organizations'],
  eventTypes: ORGANIZATION_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('organizations'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as OrganizationEvent;
      const orgId = orgIdOf(recorded);
      const version = Number(recorded.revision);
      switch (event.type) {
        case 'OrganizationCreated':
          await tx.query(
            `INSERT INTO ${t} (org_id, name, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) ON CONFLICT (org_id) DO NOTHING`,
            [orgId, event.data.name, version, event.data.createdAt],
          );
          break;
        case 'OrganizationRenamed':
          await tx.query(`UPDATE ${t} SET name = $3, version = $2, updated_at = $4 WHERE org_id = $1 AND version < $2`, [
            orgId,
            version,
            event.data.name,
            event.data.renamedAt,
          ]);
          break;
        case 'OrganizationReadingsRetentionSet':
          await tx.query(`UPDATE ${t} SET readings_retention_days = $3, version = $2, updated_at = $4 WHERE org_id = $1 AND version < $2`, [
            orgId,
            version,
            event.data.days,
            event.data.setAt,
          ]);
          break;
        default:
          assertNever(event);
      }
    }
  },
};
