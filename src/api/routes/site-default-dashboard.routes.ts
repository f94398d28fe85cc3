import { siteDefaultDashboardCommands } from '../../commands/dashboards/site-default-dashboard.handler';
import { siteNotFound } from '../../commands/sites/site.decider';
import type { PoolClient } from '../../platform/db/pool';
import { AppError, NotFoundError } from '../../platform/errors';
import { defineRoutes, type RouteContext, type RouteResult } from '../route';
import { canSee, dashboardOwner, dashboardQueries, findSiteDefault } from './dashboards.queries';
import { siteQueries } from './sites.routes';

const PATH = '/v1/sites/{id}/default-dashboard';
const SCHEMA = 'dashboards#/$defs';

const notSet = (): NotFoundError => new NotFoundError('DEFAULT_DASHBOARD_NOT_SET', 'The site has no default dashboard.');

/** The site first: another organization's site answers 404 SITE_NOT_FOUND before anything else is read. */
async function requireSite(tx: PoolClient, siteId: string): Promise<void> {
  if (!(await siteQueries.find(tx, siteId))) throw siteNotFound();
}

/** The site's default with its dashboard, as the caller may see it. */
async function currentDefault(ctx: RouteContext): Promise<RouteResult> {
  const siteId = ctx.params.id as string;
  return ctx.tenant(async (tx) => {
    await requireSite(tx, siteId);
    const choice = await findSiteDefault(tx, siteId);
    const dashboard = choice ? await dashboardQueries.find(tx, choice.dashboardId) : undefined;
    // A default deleted or made private meanwhile (a race the routes otherwise refuse) is no default.
    if (!choice || !dashboard || !canSee(dashboard, dashboardOwner(ctx.principal))) throw notSet();
    return { status: 200, body: { ...choice, dashboard }, version: choice.version };
  });
}

export const siteDefaultDashboardRoutes = defineRoutes([
  {
    method: 'put',
    path: PATH,
    operationId: 'setSiteDefaultDashboard',
    summary: 'Make a shared dashboard (of this site or of none) the site’s default, replacing the last (If-Match supported)',
    tag: 'Dashboards',
    auth: 'member',
    body: `${SCHEMA}/SetSiteDefaultDashboard`,
    responses: { 200: `${SCHEMA}/SiteDefaultDashboard` },
    async handler(ctx) {
      const siteId = ctx.params.id as string;
      const dashboardId = (ctx.body as { dashboardId: string }).dashboardId.toLowerCase();
      await ctx.tenant(async (tx) => {
        await requireSite(tx, siteId);
        const dashboard = await dashboardQueries.find(tx, dashboardId);
        const refuse = (message: string) => new AppError('UNPROCESSABLE', 'The dashboard cannot be the site’s default.', [{ path: '/body/dashboardId', message }]);
        if (!dashboard || !canSee(dashboard, dashboardOwner(ctx.principal))) throw refuse('does not exist');
        if (dashboard.visibility !== 'ORGANIZATION') throw refuse('is private: a site’s default must be shared with the organization');
        if (dashboard.siteId !== null && dashboard.siteId !== siteId) throw refuse('belongs to another site');
      });
      await ctx.settle(await siteDefaultDashboardCommands.set(ctx.deps.store, ctx.command, siteId, dashboardId, ctx.ifMatch));
      return currentDefault(ctx);
    },
  },
  {
    method: 'get',
    path: PATH,
    operationId: 'getSiteDefaultDashboard',
    summary: 'The site’s default dashboard (404 DEFAULT_DASHBOARD_NOT_SET when it has none)',
    tag: 'Dashboards',
    auth: 'viewer',
    responses: { 200: `${SCHEMA}/SiteDefaultDashboard` },
    handler: currentDefault,
  },
  {
    method: 'delete',
    path: PATH,
    operationId: 'clearSiteDefaultDashboard',
    summary: 'Leave the site without a default dashboard (If-Match supported)',
    tag: 'Dashboards',
    auth: 'member',
    responses: { 204: null },
    async handler(ctx) {
      const siteId = ctx.params.id as string;
      await ctx.tenant((tx) => requireSite(tx, siteId));
      const expectedRevision = ctx.ifMatch;
      await ctx.settle(await siteDefaultDashboardCommands.clear(ctx.deps.store, ctx.command, siteId, expectedRevision !== undefined ? { expectedRevision } : {}));
      return { status: 204 };
    },
  },
]);
