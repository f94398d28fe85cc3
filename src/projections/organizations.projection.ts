import { ORGANIZATION_EVENT_TYPES, type OrganizationEvent } from '../commands/organizations/organization.events';
import { ident, orgIdOf, type Projection } from './projection';

export const organizationsProjection: Projection = {
  name: 'organizations',
  tables: ['organizations'],
  eventTypes: ORGANIZATION_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('organizations'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as OrganizationEvent;
      const orgId = orgIdOf(recorded);
      if (event.type === 'OrganizationCreated') {
        await tx.query(
          `INSERT INTO ${t} (org_id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (org_id) DO NOTHING`,
          [orgId, event.data.name, event.data.createdAt],
        );
      } else {
        await tx.query(`UPDATE ${t} SET name = $2, updated_at = $3 WHERE org_id = $1`, [orgId, event.data.name, event.data.renamedAt]);
      }
    }
  },
};
