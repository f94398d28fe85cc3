import { NotFoundError, type FieldError } from '../../platform/errors';
import { entityDecider } from '../entities/entity.decider';
import { layoutProblem, type DashboardLayout } from './dashboard.layout';

export type DashboardVisibility = 'PRIVATE' | 'ORGANIZATION';

/** The owner of a dashboard made with an API key (or by a pack): every API key of the organization. */
export const ORGANIZATION_OWNER = 'organization';

export interface DashboardFields {
  name: string;
  description: string | null;
  siteId: string | null;
  visibility: DashboardVisibility;
  /** `user:<id>`, or ORGANIZATION_OWNER; fixed at creation. */
  owner: string;
  layout: DashboardLayout;
}

export const dashboardNotFound = (): NotFoundError => new NotFoundError('DASHBOARD_NOT_FOUND', 'No dashboard with this id.');

/**
 * What is wrong with a dashboard document beyond its schema (the layout's
 * grid, ids, scopes and size), as pointers under `at`. Pure: packs call it
 * before installing a dashboard; the decider runs it on every save.
 */
export function dashboardDocumentErrors(fields: Pick<DashboardFields, 'layout'>, at = '/body'): FieldError[] {
  const problem = layoutProblem(fields.layout, `${at}/layout`);
  return problem ? [...problem.errors] : [];
}

export const dashboardDecider = entityDecider<'Dashboard', DashboardFields>('Dashboard', dashboardNotFound, {
  immutable: ['owner'],
  // Checked on the merged fields; references to other resources are checked by the API under RLS before the command.
  check(fields) {
    const problem = layoutProblem(fields.layout);
    if (problem) throw problem;
  },
});

export function dashboardStream(id: string): string {
  return `dashboard-${id}`;
}
