import { randomUUID } from 'node:crypto';
import { dashboardNotFound, type DashboardFields, type DashboardVisibility } from '../../commands/dashboards/dashboard.decider';
import { dashboardCommands } from '../../commands/dashboards/dashboard.handler';
import { withLowercaseIds, type DashboardLayout } from '../../commands/dashboards/dashboard.layout';
import { siteDefaultDashboardCommands } from '../../commands/dashboards/site-default-dashboard.handler';
import { ConflictError, ForbiddenError } from '../../platform/errors';
import { entityRoutes } from '../entity.routes';
import { defineRoutes, type RouteContext, type RouteResult, type RouteSpec } from '../route';
import { dashboardOwner, dashboardQueries, dashboardReferenceErrors, findVisibleDashboard, sitesDefaultingTo, type DashboardView } from './dashboards.queries';

const COLLECTION = '/v1/dashboards';
const COPY_SUFFIX = ' (copy)';
const NAME_MAX = 200;

/** Ids as Postgres answers them (lower case), so a stored layout echoes what reads return. */
function normalised<T extends { layout?: DashboardLayout; siteId?: string | null }>(fields: T): T {
  return {
    ...fields,
    ...(fields.layout ? { layout: withLowercaseIds(fields.layout) } : {}),
    ...(typeof fields.siteId === 'string' ? { siteId: fields.siteId.toLowerCase() } : {}),
  };
}

/**
 * A change the viewer may not make: the visibility is the owner's to change,
 * and a site's default dashboard must stay shared and on its site (or on none).
 */
async function checkChange(ctx: RouteContext, dashboard: DashboardView, changes: Partial<DashboardFields>, viewer: string): Promise<void> {
  if (changes.visibility !== undefined && changes.visibility !== dashboard.visibility && dashboard.owner !== viewer) {
    throw new ForbiddenError('FORBIDDEN', 'Only the dashboard’s owner can change its visibility.');
  }
  const sites = await ctx.tenant((tx) => sitesDefaultingTo(tx, dashboard.id));
  if (sites.length === 0) return;
  const otherSite = typeof changes.siteId === 'string' && sites.some((site) => site !== changes.siteId);
  if (changes.visibility === 'PRIVATE' || otherSite) {
    throw new ConflictError(
      'DASHBOARD_IS_SITE_DEFAULT',
      `The dashboard is the default of site ${sites.join(', ')}: it must stay shared with the organization and on that site (or on none). Choose another default first.`,
    );
  }
}

/**
 * Visibility around the entity routes: the creator becomes the owner, lists
 * show shared dashboards and the viewer's own, and another's private
 * dashboard answers 404 like a random id. Deleting a site's default clears it.
 */
function withVisibility(routes: readonly RouteSpec[]): RouteSpec[] {
  const wrap = (route: RouteSpec, before: (ctx: RouteContext, viewer: string) => Promise<RouteContext>, after?: (ctx: RouteContext, sites: string[]) => Promise<void>): RouteSpec => ({
    ...route,
    async handler(ctx: RouteContext): Promise<RouteResult> {
      const viewer = dashboardOwner(ctx.principal);
      const next = await before(ctx, viewer);
      const sites = after ? await ctx.tenant((tx) => sitesDefaultingTo(tx, ctx.params.id as string)) : [];
      const answer = await route.handler(next);
      await after?.(ctx, sites);
      return answer;
    },
  });
  const visible = async (ctx: RouteContext, viewer: string) => ctx.tenant((tx) => findVisibleDashboard(tx, ctx.params.id as string, viewer));
  return routes.map((route) => {
    switch (route.operationId) {
      case 'createDashboard':
        return wrap(route, async (ctx, viewer) => ({ ...ctx, body: { ...normalised(ctx.body as Partial<DashboardFields>), owner: viewer } }));
      case 'listDashboards':
        return wrap(route, async (ctx, viewer) => ({ ...ctx, query: { ...ctx.query, viewer } }));
      case 'getDashboard':
        return wrap(route, async (ctx, viewer) => (await visible(ctx, viewer), ctx));
      case 'updateDashboard':
        return wrap(route, async (ctx, viewer) => {
          const body = normalised(ctx.body as Partial<DashboardFields>);
          await checkChange(ctx, await visible(ctx, viewer), body, viewer);
          return { ...ctx, body };
        });
      case 'deleteDashboard':
        return wrap(
          route,
          async (ctx, viewer) => (await visible(ctx, viewer), ctx),
          async (ctx, sites) => {
            const onlyIf = ctx.params.id as string;
            for (const siteId of sites) await ctx.settle(await siteDefaultDashboardCommands.clear(ctx.deps.store, ctx.command, siteId, { onlyIf }));
          },
        );
      default:
        return route;
    }
  });
}

const crud = entityRoutes<DashboardFields, DashboardView>({
  collection: COLLECTION,
  tag: 'Dashboards',
  singular: 'Dashboard',
  plural: 'Dashboards',
  schema: 'dashboards',
  commands: dashboardCommands,
  queries: dashboardQueries,
  notFound: dashboardNotFound,
  deleteSummary: 'Delete a dashboard; a site it is the default of has none after (If-Match supported)',
  toFields: (body) => ({
    name: body.name as string,
    description: (body.description as string | null | undefined) ?? null,
    siteId: (body.siteId as string | null | undefined) ?? null,
    visibility: (body.visibility as DashboardVisibility | undefined) ?? 'ORGANIZATION',
    // Set by the create wrapper from the principal; the body schema has no such property.
    owner: body.owner as string,
    layout: body.layout as DashboardLayout,
  }),
  references: (tx, fields) => dashboardReferenceErrors(tx, fields),
});

const duplicate: RouteSpec = {
  method: 'post',
  path: `${COLLECTION}/{id}/duplicate`,
  operationId: 'duplicateDashboard',
  summary: 'Copy a dashboard the caller can see; the copy is the caller’s',
  tag: 'Dashboards',
  auth: 'member',
  body: 'dashboards#/$defs/DuplicateDashboard',
  responses: { 201: 'dashboards#/$defs/Dashboard' },
  async handler(ctx) {
    const owner = dashboardOwner(ctx.principal);
    const original = await ctx.tenant((tx) => findVisibleDashboard(tx, ctx.params.id as string, owner));
    const body = ctx.body as { name?: string; visibility?: DashboardVisibility };
    // The copy keeps the original's references as they are: they were checked when the original was saved.
    const fields: DashboardFields = {
      name: body.name ?? `${original.name.slice(0, NAME_MAX - COPY_SUFFIX.length)}${COPY_SUFFIX}`,
      description: original.description,
      siteId: original.siteId,
      visibility: body.visibility ?? original.visibility,
      owner,
      layout: original.layout,
    };
    const id = randomUUID();
    const result = await dashboardCommands.create(ctx.deps.store, ctx.command, id, fields);
    await ctx.settle(result);
    const at = new Date().toISOString();
    const view = (await ctx.tenant((tx) => dashboardQueries.find(tx, id))) ?? { ...fields, id, version: 0, createdAt: at, updatedAt: at };
    return { status: 201, body: view, version: view.version, headers: { Location: `/api${COLLECTION}/${id}` } };
  },
};

export const dashboardRoutes = defineRoutes([...withVisibility(crud), duplicate]);
