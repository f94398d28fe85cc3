import { ORGANIZATION_OWNER, dashboardNotFound, type DashboardFields } from '../../commands/dashboards/dashboard.decider';
import { layoutReferences, type ReferenceKind } from '../../commands/dashboards/dashboard.layout';
import type { Queryable } from '../../platform/db/pool';
import type { FieldError } from '../../platform/errors';
import { dashboardColumns } from '../../projections/dashboards.projection';
import type { Principal } from '../auth/principal';
import { entityQueries, equals, textSearch, unknownReferences, type EntityQueries } from '../entity.queries';
import { deviceGroupQueries } from './device-groups.queries';
import { deviceQueries } from './devices.queries';
import { sensorQueries } from './sensors.routes';
import { siteQueries } from './sites.routes';

export interface DashboardView extends DashboardFields {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** Who owns what the principal creates: a user, or for API keys the organization as a whole. */
export function dashboardOwner(principal: Pick<Principal, 'kind' | 'actor'>): string {
  return principal.kind === 'user' ? principal.actor : ORGANIZATION_OWNER;
}

export function canSee(dashboard: Pick<DashboardView, 'visibility' | 'owner'>, viewer: string): boolean {
  return dashboard.visibility === 'ORGANIZATION' || dashboard.owner === viewer;
}

const entityDashboardQueries = entityQueries<DashboardView>({
  table: 'dashboards',
  fields: dashboardColumns,
  filters: [
    textSearch(),
    equals('siteId', 'site_id'),
    equals('visibility', 'visibility'),
    // Set by the routes from the principal, never by the client: shared dashboards and the viewer's own.
    { param: 'viewer', sql: (p) => `(t.visibility = 'ORGANIZATION' OR t.owner = ${p})` },
  ],
});

/** Lists only for a viewer: a list without one would show every private dashboard of the organization. */
export const dashboardQueries: EntityQueries<DashboardView> = {
  ...entityDashboardQueries,
  list(db, query) {
    if (typeof query.viewer !== 'string') throw new Error('dashboards are listed for a viewer');
    return entityDashboardQueries.list(db, query);
  },
};

/** The dashboard if the viewer may see it; another's private dashboard is missing exactly like a random id. */
export async function findVisibleDashboard(db: Queryable, id: string, viewer: string): Promise<DashboardView> {
  const dashboard = await dashboardQueries.find(db, id);
  if (!dashboard || !canSee(dashboard, viewer)) throw dashboardNotFound();
  return dashboard;
}

const REFERENCED: Record<ReferenceKind, Pick<EntityQueries<unknown>, 'existing'>> = {
  sensor: sensorQueries,
  device: deviceQueries,
  site: siteQueries,
  deviceGroup: deviceGroupQueries,
};

/**
 * Every id the document names (its site, and each widget's sensors, devices,
 * sites and groups) must be the caller's organization's (checked under
 * RLS): one error per JSON pointer that is not.
 */
export async function dashboardReferenceErrors(db: Queryable, fields: Partial<Pick<DashboardFields, 'siteId' | 'layout'>>, at = '/body'): Promise<FieldError[]> {
  const refs = [
    ...(fields.siteId ? [{ path: `${at}/siteId`, kind: 'site' as const, id: fields.siteId }] : []),
    ...(fields.layout ? layoutReferences(fields.layout, `${at}/layout`) : []),
  ];
  const errors: FieldError[] = [];
  for (const kind of Object.keys(REFERENCED) as ReferenceKind[]) {
    const ofKind = refs.filter((ref) => ref.kind === kind);
    if (ofKind.length > 0) errors.push(...(await unknownReferences(db, REFERENCED[kind], ofKind)));
  }
  // In document order, so the first error is the first bad id a reader meets.
  const order = new Map(refs.map((ref, i) => [ref.path, i]));
  return errors.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
}

export interface SiteDefaultRow {
  siteId: string;
  dashboardId: string;
  setBy: string;
  setAt: string;
  version: number;
}

/** The site's current default dashboard choice, if one is set. */
export async function findSiteDefault(db: Queryable, siteId: string): Promise<SiteDefaultRow | undefined> {
  const { rows } = await db.query<{ site_id: string; dashboard_id: string; set_by: string; set_at: Date; version: number }>(
    'SELECT site_id, dashboard_id, set_by, set_at, version FROM site_default_dashboards WHERE site_id = $1 AND dashboard_id IS NOT NULL',
    [siteId],
  );
  const row = rows[0];
  return row ? { siteId: row.site_id, dashboardId: row.dashboard_id, setBy: row.set_by, setAt: row.set_at.toISOString(), version: row.version } : undefined;
}

/** The sites whose default is this dashboard. */
export async function sitesDefaultingTo(db: Queryable, dashboardId: string): Promise<string[]> {
  const { rows } = await db.query<{ site_id: string }>('SELECT site_id FROM site_default_dashboards WHERE dashboard_id = $1 ORDER BY site_id', [dashboardId]);
  return rows.map((r) => r.site_id);
}

/** The version of the site's default choice, or undefined when none was ever made (for ETags). */
export async function siteDefaultVersion(db: Queryable, siteId: string): Promise<number | undefined> {
  const { rows } = await db.query<{ version: number }>('SELECT version FROM site_default_dashboards WHERE site_id = $1', [siteId]);
  return rows[0]?.version;
}
