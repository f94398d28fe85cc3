import { dashboardDecider } from '../commands/dashboards/dashboard.decider';
import { entityProjection } from './entity.projection';

/** Read-model columns of each field; the API's queries read the same map. */
export const dashboardColumns = {
  name: 'name',
  description: 'description',
  siteId: 'site_id',
  visibility: 'visibility',
  owner: 'owner',
  layout: 'layout',
} as const;

export const dashboardsProjection = entityProjection({
  name: 'dashboards',
  table: 'dashboards',
  decider: dashboardDecider,
  columns: dashboardColumns,
});
