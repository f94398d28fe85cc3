import { DEVICE_GROUP_EVENT_TYPES, deviceGroupEntity, type DeviceGroupEvent } from '../commands/device-groups/device-group.decider';
import { entityProjection } from './entity.projection';
import { ident, orgIdOf, type Projection } from './projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const deviceGroupColumns = { name: 'name', description: 'description', kind: 'kind', tagSelector: 'tag_selector', labels: 'labels' } as const;

const groups = entityProjection({
  name: 'device-groups',
  table: 'device_groups',
  decider: deviceGroupEntity,
  columns: deviceGroupColumns,
});

/** Groups and their static members; membership changes move the group's version, a deleted group takes its member rows with it. */
export const deviceGroupsProjection: Projection = {
  name: 'device-groups',
  tables: ['device_groups', 'device_group_members'],
  eventTypes: DEVICE_GROUP_EVENT_TYPES,
  async apply(tx, events, table) {
    const members = ident(table('device_group_members'));
    const touch = (orgId: string, id: string, version: number, at: string) =>
      tx.query(`UPDATE ${ident(table('device_groups'))} SET version = $3, updated_at = $4 WHERE org_id = $1 AND id = $2 AND version < $3`, [
        orgId,
        id,
        version,
        at,
      ]);
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as DeviceGroupEvent;
      const orgId = orgIdOf(recorded);
      switch (event.type) {
        case 'DeviceGroupMembersAdded':
          await tx.query(
            `INSERT INTO ${members} (org_id, group_id, device_id, added_at)
             SELECT $1, $2, d, $4 FROM unnest($3::uuid[]) d ON CONFLICT DO NOTHING`,
            [orgId, event.data.id, event.data.deviceIds, event.data.addedAt],
          );
          await touch(orgId, event.data.id, Number(recorded.revision), event.data.addedAt);
          break;
        case 'DeviceGroupMemberRemoved':
          await tx.query(`DELETE FROM ${members} WHERE org_id = $1 AND group_id = $2 AND device_id = $3`, [orgId, event.data.id, event.data.deviceId]);
          await touch(orgId, event.data.id, Number(recorded.revision), event.data.removedAt);
          break;
        case 'DeviceGroupDeleted':
          await tx.query(`DELETE FROM ${members} WHERE org_id = $1 AND group_id = $2`, [orgId, event.data.id]);
          await groups.apply(tx, [recorded], table);
          break;
        default:
          await groups.apply(tx, [recorded], table);
      }
    }
  },
};
