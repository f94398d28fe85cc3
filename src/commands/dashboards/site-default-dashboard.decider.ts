import { assertNever, type Decider } from '../decider';

/**
 * A site's default dashboard: one stream per site, so a site has at most one
 * default by construction, and a new choice replaces the last.
 */
export type SiteDefaultDashboardEvent =
  | { type: 'SiteDefaultDashboardSet'; data: { siteId: string; dashboardId: string; setAt: string } }
  | { type: 'SiteDefaultDashboardCleared'; data: { siteId: string; dashboardId: string; clearedAt: string } };

export const SITE_DEFAULT_DASHBOARD_EVENT_TYPES = ['SiteDefaultDashboardSet', 'SiteDefaultDashboardCleared'] as const;

export type SiteDefaultDashboardCommand =
  | { type: 'SetSiteDefaultDashboard'; data: { siteId: string; dashboardId: string; now: string } }
  /** `onlyIf`: clear only while this dashboard is the default (a deleted dashboard's clean-up must not clear a newer choice). */
  | { type: 'ClearSiteDefaultDashboard'; data: { siteId: string; onlyIf?: string; now: string } };

export type SiteDefaultDashboardState = { status: 'unset' } | { status: 'set'; siteId: string; dashboardId: string };

export const siteDefaultDashboardDecider: Decider<SiteDefaultDashboardCommand, SiteDefaultDashboardEvent, SiteDefaultDashboardState> = {
  initialState: { status: 'unset' },

  decide(command, state) {
    switch (command.type) {
      case 'SetSiteDefaultDashboard': {
        const { siteId, dashboardId, now } = command.data;
        if (state.status === 'set' && state.dashboardId === dashboardId) return [];
        return [{ type: 'SiteDefaultDashboardSet', data: { siteId, dashboardId, setAt: now } }];
      }
      case 'ClearSiteDefaultDashboard': {
        const { siteId, onlyIf, now } = command.data;
        if (state.status === 'unset' || (onlyIf !== undefined && onlyIf !== state.dashboardId)) return [];
        return [{ type: 'SiteDefaultDashboardCleared', data: { siteId, dashboardId: state.dashboardId, clearedAt: now } }];
      }
      default:
        return assertNever(command);
    }
  },

  evolve(_state, event) {
    switch (event.type) {
      case 'SiteDefaultDashboardSet':
        return { status: 'set', siteId: event.data.siteId, dashboardId: event.data.dashboardId };
      case 'SiteDefaultDashboardCleared':
        return { status: 'unset' };
      default:
        return assertNever(event);
    }
  },
};

export function siteDefaultDashboardStream(siteId: string): string {
  return `siteDefaultDashboard-${siteId}`;
}
