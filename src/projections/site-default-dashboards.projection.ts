import { assertNever } from '../commands/decider';
import { SITE_DEFAULT_DASHBOARD_EVENT_TYPES, type SiteDefaultDashboardEvent } from '../commands/dashboards/site-default-dashboard.decider';
import { ident, orgIdOf, type Projection } from './projection';

/**
 * One row per site that ever had a default dashboard. A cleared default keeps
 * its row with a null dashboard, so the row only moves forward by the
 * stream's revision and a replay changes nothing.
 */
export const siteDefaultDashboardsProjection: Projection = {
  name: 'site-default-dashboards',
  tables: ['site_default_dashboards'],
  eventTypes: SITE_DEFAULT_DASHBOARD_EVENT_TYPES,
  async apply(tx, events, table) {
    const t = ident(table('site_default_dashboards'));
    for (const recorded of events) {
      const event = { type: recorded.type, data: recorded.data } as SiteDefaultDashboardEvent;
      const set = ((): [string | null, string | null, string | null] => {
        switch (event.type) {
          case 'SiteDefaultDashboardSet':
            return [event.data.dashboardId, recorded.metadata.actor, event.data.setAt];
          case 'SiteDefaultDashboardCleared':
            return [null, null, null];
          default:
            return assertNever(event);
        }
      })();
      await tx.query(
        `INSERT INTO ${t} AS s (org_id, site_id, dashboard_id, set_by, set_at, version) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (org_id, site_id) DO UPDATE
           SET dashboard_id = EXCLUDED.dashboard_id, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at, version = EXCLUDED.version
           WHERE s.version < EXCLUDED.version`,
        [orgIdOf(recorded), event.data.siteId, ...set, Number(recorded.revision)],
      );
    }
  },
};
