import type { EventStore } from '../../platform/event-store/event-store.port';
import { handleCommand, type CommandResult } from '../command-handler';
import type { CommandContext } from '../decider';
import { siteNotFound } from '../sites/site.decider';
import { siteDefaultDashboardDecider, siteDefaultDashboardStream, type SiteDefaultDashboardEvent } from './site-default-dashboard.decider';

type Result = Promise<CommandResult<SiteDefaultDashboardEvent>>;

/** Another organization's site stream answers like a missing site. */
const options = (expectedRevision: bigint | undefined) => ({ notFound: siteNotFound, ...(expectedRevision !== undefined ? { expectedRevision } : {}) });

export const siteDefaultDashboardCommands = {
  stream: siteDefaultDashboardStream,
  set(store: EventStore, ctx: CommandContext, siteId: string, dashboardId: string, expectedRevision?: bigint, now = new Date()): Result {
    const command = { type: 'SetSiteDefaultDashboard' as const, data: { siteId, dashboardId, now: now.toISOString() } };
    return handleCommand(store, siteDefaultDashboardDecider, siteDefaultDashboardStream(siteId), command, ctx, options(expectedRevision));
  },
  clear(store: EventStore, ctx: CommandContext, siteId: string, when: { onlyIf?: string; expectedRevision?: bigint } = {}, now = new Date()): Result {
    const data = { siteId, now: now.toISOString(), ...(when.onlyIf !== undefined ? { onlyIf: when.onlyIf } : {}) };
    return handleCommand(store, siteDefaultDashboardDecider, siteDefaultDashboardStream(siteId), { type: 'ClearSiteDefaultDashboard', data }, ctx, options(when.expectedRevision));
  },
};
