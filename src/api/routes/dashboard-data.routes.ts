import type { DashboardLayout, DashboardWidget } from '../../commands/dashboards/dashboard.layout';
import type { PoolClient } from '../../platform/db/pool';
import { AppError, type FieldError } from '../../platform/errors';
import { defineRoutes } from '../route';
import { dashboardOwner, findVisibleDashboard } from './dashboards.queries';
import { readsReadings, widgetData } from './dashboard-data.widgets';
import { timeRange, type TimeRange } from './readings.params';
import { limitStatementTime } from './readings.queries';

const DAY_MS = 86_400_000;

type WidgetResult =
  | { id: string; type: DashboardWidget['type']; data: unknown }
  | { id: string; type: DashboardWidget['type']; error: { code: string; detail: string; errors?: readonly FieldError[] } };

/** `to` is now and `from` a day before it, unless given. */
export function dataRange(query: Readonly<Record<string, unknown>>, now: Date): TimeRange {
  const to = (query.to as string | undefined) ?? now.toISOString();
  const from = (query.from as string | undefined) ?? new Date(Date.parse(to) - DAY_MS).toISOString();
  return timeRange({ from, to });
}

const isStatementTimeout = (error: unknown): boolean => typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014';

/**
 * Every widget in one tenant transaction, each behind a savepoint so that one
 * widget's failure (a sensor deleted since, a timeout) becomes its error entry
 * and leaves the transaction usable. The call as a whole has the readings
 * timeout as its budget: each widget's statements get what is left of it, and
 * a widget reached after it is spent answers QUERY_TIMEOUT without running.
 * Widgets that only read the small read models go first, so a slow chart does
 * not starve them.
 */
async function resolveWidgets(tx: PoolClient, layout: DashboardLayout, range: TimeRange, width: number, budgetMs: number): Promise<WidgetResult[]> {
  const now = new Date();
  const deadline = Date.now() + budgetMs;
  const order = layout.widgets.map((widget, index) => ({ widget, index })).sort((a, b) => Number(readsReadings(a.widget)) - Number(readsReadings(b.widget)));
  const results: WidgetResult[] = new Array<WidgetResult>(layout.widgets.length);
  for (const { widget, index } of order) {
    const { id, type } = widget;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      results[index] = { id, type, error: { code: 'QUERY_TIMEOUT', detail: `The dashboard's time budget (${budgetMs} ms) was spent before this widget was read.` } };
      continue;
    }
    await limitStatementTime(tx, remaining);
    await tx.query('SAVEPOINT dashboard_widget');
    try {
      const data = await widgetData(widget, { db: tx, range, width, now, at: `/layout/widgets/${index}` });
      await tx.query('RELEASE SAVEPOINT dashboard_widget');
      results[index] = { id, type, data };
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT dashboard_widget');
      if (error instanceof AppError) {
        results[index] = { id, type, error: { code: error.code, detail: error.message, ...(error.errors.length > 0 ? { errors: error.errors } : {}) } };
      } else if (isStatementTimeout(error)) {
        results[index] = { id, type, error: { code: 'QUERY_TIMEOUT', detail: 'The query took too long; narrow the range or widen the bucket.' } };
      } else {
        throw error;
      }
    }
  }
  return results;
}

export const dashboardDataRoutes = defineRoutes([
  {
    method: 'get',
    path: '/v1/dashboards/{id}/data',
    operationId: 'getDashboardData',
    summary: 'Every widget’s data over a time range in one call, each series aggregated to fit its widget’s width; a widget that fails gets an error entry',
    tag: 'Dashboards',
    auth: 'viewer',
    query: 'dashboards#/$defs/DashboardDataQuery',
    responses: { 200: 'dashboards#/$defs/DashboardData' },
    async handler(ctx) {
      const range = dataRange(ctx.query, new Date());
      const width = ctx.query.width as number;
      const viewer = dashboardOwner(ctx.principal);
      return ctx.tenant(async (tx) => {
        const dashboard = await findVisibleDashboard(tx, ctx.params.id as string, viewer);
        const widgets = await resolveWidgets(tx, dashboard.layout, range, width, ctx.deps.config.readingsQueryTimeoutMs);
        return { status: 200, body: { dashboardId: dashboard.id, version: dashboard.version, ...range, width, widgets } };
      });
    },
  },
]);
