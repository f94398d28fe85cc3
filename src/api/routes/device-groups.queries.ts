import type { Queryable } from '../../platform/db/pool';
import type { DeviceGroupFields } from '../../commands/device-groups/device-group.decider';
import { entityQueries, textSearch, equals, type ListFilter } from '../entity.queries';
import { decodeCursor, toPage, type Page } from '../pagination';
import { deviceGroupColumns } from '../../projections/device-groups.projection';

export interface DeviceGroupView extends DeviceGroupFields {
  id: string;
  memberCount: number;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/**
 * Whether device `d` matches the tag selector of group `g`: all of `allOf`
 * and, when `anyOf` is non-empty, one of it. Decommissioned devices are never
 * members. The one definition of dynamic membership.
 */
export function dynamicMatch(d: string, g: string): string {
  return `(${d}.status <> 'DECOMMISSIONED'
    AND ${d}.tags @> COALESCE(${g}.tag_selector -> 'allOf', '[]'::jsonb)
    AND (jsonb_array_length(COALESCE(${g}.tag_selector -> 'anyOf', '[]'::jsonb)) = 0
         OR ${d}.tags ?| ARRAY(SELECT jsonb_array_elements_text(${g}.tag_selector -> 'anyOf'))))`;
}

function staticMember(g: string, device: string): string {
  return `EXISTS (SELECT 1 FROM device_group_members m WHERE m.group_id = ${g}.id AND m.device_id = ${device})`;
}

/** Whether device row `d` belongs to the group whose id is `groupId` (a placeholder), statically or dynamically. */
export function inGroup(d: string, groupId: string): string {
  return `EXISTS (SELECT 1 FROM device_groups g WHERE g.id = ${groupId}::uuid
    AND ((g.kind = 'STATIC' AND ${staticMember('g', `${d}.id`)}) OR (g.kind = 'DYNAMIC' AND ${dynamicMatch(d, 'g')})))`;
}

const memberOf: ListFilter = {
  param: 'deviceId',
  sql: (p) =>
    `((t.kind = 'STATIC' AND ${staticMember('t', `${p}::uuid`)}) OR
      (t.kind = 'DYNAMIC' AND EXISTS (SELECT 1 FROM devices d WHERE d.id = ${p}::uuid AND ${dynamicMatch('d', 't')})))`,
};

export const deviceGroupQueries = entityQueries<DeviceGroupView>({
  table: 'device_groups',
  fields: deviceGroupColumns,
  computed: {
    memberCount: `CASE WHEN t.kind = 'STATIC'
      THEN (SELECT count(*) FROM device_group_members m JOIN devices d ON d.id = m.device_id AND d.status <> 'DECOMMISSIONED' WHERE m.group_id = t.id)
      ELSE (SELECT count(*) FROM devices d WHERE ${dynamicMatch('d', 't')}) END`,
  },
  filters: [textSearch(), equals('kind', 'kind'), memberOf],
});

interface MemberRow {
  device_id: string;
  name: string;
  status: string;
  via: 'STATIC' | 'DYNAMIC';
}

/** Members of a group (static rows or the devices its selector matches), by device id. */
export async function listGroupMembers(
  db: Queryable,
  groupId: string,
  query: { limit: number; cursor?: string },
): Promise<Page<{ deviceId: string; name: string; status: string; via: 'STATIC' | 'DYNAMIC' }>> {
  const after = decodeCursor(query.cursor, 1);
  const { rows } = await db.query<MemberRow>(
    `SELECT d.id AS device_id, d.name, d.status, g.kind AS via
       FROM device_groups g JOIN devices d
         ON (g.kind = 'STATIC' AND ${staticMember('g', 'd.id')} AND d.status <> 'DECOMMISSIONED')
         OR (g.kind = 'DYNAMIC' AND ${dynamicMatch('d', 'g')})
      WHERE g.id = $1 AND ($2::uuid IS NULL OR d.id > $2::uuid)
      ORDER BY d.id LIMIT $3`,
    [groupId, after?.[0] ?? null, query.limit + 1],
  );
  return toPage(rows, query.limit, (r) => ({ deviceId: r.device_id, name: r.name, status: r.status, via: r.via }), (r) => [r.device_id]);
}
